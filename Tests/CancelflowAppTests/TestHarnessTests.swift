import CancelflowTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The child-process helpers the other suites lean on. A hang in them once held a CI run for its
/// whole 90 minutes, so what they promise is checked here: a stuck child becomes a result, not
/// a wait without end.
@Suite struct TestHarnessTests {
    @Test func aChildThatIgnoresSIGINTIsKilledAndSaysSo() async throws {
        let child = try ChildProcess("/bin/sh", ["-c", "trap '' INT; echo started; while :; do sleep 1; done"])
        defer { child.killNow() }
        try await waitUntil("the child has started", timeout: .seconds(10), interval: .milliseconds(20)) { child.printed.contains("started") }
        let stopped = await child.stop(signal: SIGINT, grace: .milliseconds(500))
        #expect(stopped.killed)
        #expect(stopped.signalled && stopped.status == SIGKILL)
        #expect(stopped.output.contains("started"))
    }

    @Test func aChildThatExitsOnSIGINTIsNotKilled() async throws {
        let child = try ChildProcess("/bin/sh", ["-c", "trap 'echo bye; exit 3' INT; echo started; while :; do sleep 0.1; done"])
        defer { child.killNow() }
        try await waitUntil("the child has started", timeout: .seconds(10), interval: .milliseconds(20)) { child.printed.contains("started") }
        let stopped = await child.stop(signal: SIGINT, grace: .seconds(30))
        #expect(!stopped.killed)
        #expect(stopped.status == 3 && !stopped.signalled)
        #expect(stopped.output.contains("bye"))
    }

    /// More than a pipe holds (64 KiB): a child whose output nobody reads would block on write.
    @Test func aChattyChildNeverBlocksOnItsOutput() async throws {
        let child = try ChildProcess("/bin/sh", ["-c", "head -c 1000000 /dev/zero | tr '\\0' x; echo; echo done"])
        defer { child.killNow() }
        #expect(await child.waitForExit(timeout: .seconds(60)))
        let stopped = await child.stop()
        #expect(stopped.status == 0)
        #expect(stopped.output.hasSuffix("done\n"))
        #expect(stopped.output.count > 1_000_000)
    }

    /// A grandchild that keeps the output pipe open (as a browser left behind by a driver can)
    /// is killed with its parent when the time runs out.
    @Test func runProcessStopsTheWholeGroupWhenItsTimeRunsOut() async throws {
        let result = try await runProcess("/bin/sh", ["-c", "sleep 600 & echo started; sleep 600"], timeout: .seconds(2))
        #expect(result.status == 124)
        #expect(result.stdout.contains("started"))
        #expect(result.stderr.contains("was stopped after 2 s"))
    }

    @Test func runProcessReportsStatusAndOutput() async throws {
        let result = try await runProcess("/bin/sh", ["-c", "echo out; echo err >&2; exit 7"])
        #expect(result.status == 7)
        #expect(result.stdout == "out\n")
        #expect(result.stderr == "err\n")
    }

    /// A child must not inherit the blocked signals of the test thread that started it.
    @Test func childrenStartWithNoSignalBlocked() async throws {
        let result = try await runProcess("/bin/sh", ["-c", "grep SigBlk /proc/self/status"])
        #expect(result.stdout == "SigBlk:\t0000000000000000\n")
        let child = try ChildProcess("/bin/sh", ["-c", "grep SigBlk /proc/self/status"])
        defer { child.killNow() }
        #expect(await child.waitForExit(timeout: .seconds(60)))
        #expect(await child.stop().output == "SigBlk:\t0000000000000000\n")
    }
}
