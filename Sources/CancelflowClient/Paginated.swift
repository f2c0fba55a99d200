/// A list the API returns in pages, as one sequence: the next page is fetched when the current
/// one runs out, so `for try await link in cancelflow.cancelLinks() { … }` walks all of them and
/// stopping early fetches no more.
public struct Paginated<Element: Sendable>: AsyncSequence, Sendable {
    /// Fetches the page after `cursor` (nil: the first); answers its items and the next cursor,
    /// nil on the last page.
    let fetch: @Sendable (_ cursor: String?) async throws -> (items: [Element], next: String?)

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(fetch: self.fetch)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let fetch: @Sendable (String?) async throws -> (items: [Element], next: String?)
        var buffer: [Element] = []
        var position = 0
        var cursor: String?
        var started = false

        public mutating func next() async throws -> Element? {
            while self.position == self.buffer.count {
                // Done once a page said there is nothing after it.
                if self.started && self.cursor == nil { return nil }
                let page = try await self.fetch(self.cursor)
                self.started = true
                self.buffer = page.items
                self.position = 0
                self.cursor = page.next
                if page.items.isEmpty && page.next == nil { return nil }
            }
            defer { self.position += 1 }
            return self.buffer[self.position]
        }
    }
}
