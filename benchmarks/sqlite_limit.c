/*
 * The SQLite ceiling for benchmarks/run: the statements one mint or one exchange runs, in the
 * server's order and transactions, as prepared statements in one process over the same libsqlite3
 * the server links, on a copy of the server's own database with its journal and durability.
 *
 *   sqlite_limit DB SYNCHRONOUS ORG COUNT BATCH
 *
 * BATCH 1 is one transaction per operation (what a server without group commit could reach);
 * BATCH N puts N operations in one transaction, the ceiling that group commit approaches by
 * sharing one fsync among many. Prints one JSON line: {"mint": ops/s, "exchange": ops/s}.
 *
 * Written in C rather than through the sqlite3 shell, which re-parses every statement and so
 * measured a limit far below what the library can do; and rather than in Swift, so that nothing
 * but SQLite is measured.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static sqlite3 *db;

static void check(int rc, const char *what) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "%s: %s\n", what, sqlite3_errmsg(db));
        exit(1);
    }
}

static sqlite3_stmt *prepare(const char *sql) {
    sqlite3_stmt *statement;
    check(sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &statement, NULL), sql);
    return statement;
}

/* Runs a prepared statement to the end, reading every row, then resets it. */
static void step(sqlite3_stmt *statement) {
    int rc;
    while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
        for (int column = 0; column < sqlite3_column_count(statement); column++) (void)sqlite3_column_text(statement, column);
    }
    check(rc, sqlite3_sql(statement));
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
}

static void exec(const char *sql) { check(sqlite3_exec(db, sql, NULL, NULL, NULL), sql); }

static double seconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec + now.tv_nsec / 1e9;
}

static void random_hex(char *out, int bytes) {
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < bytes; i++) {
        int value = rand() & 0xff;
        out[2 * i] = digits[value >> 4];
        out[2 * i + 1] = digits[value & 15];
    }
    out[2 * bytes] = 0;
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: sqlite_limit DB SYNCHRONOUS ORG COUNT BATCH\n");
        return 2;
    }
    const char *org = argv[3];
    int count = atoi(argv[4]), batch = atoi(argv[5]);
    check(sqlite3_open(argv[1], &db), "open");
    char pragmas[200];
    snprintf(pragmas, sizeof pragmas, "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;",
             argv[2]);
    exec(pragmas);
    /* Seeded apart from any earlier run on the same file (token and session hashes are unique). */
    struct timespec seed;
    clock_gettime(CLOCK_REALTIME, &seed);
    srand((unsigned)(seed.tv_nsec ^ seed.tv_sec ^ getpid()));
    long long now = (long long)time(NULL) * 1000;

    sqlite3_stmt *claim_delete = prepare(
        "DELETE FROM idempotency_keys WHERE organization_id = ?1 AND mode = 'test' AND idempotency_key = ?2 "
        "AND (created_at < ?3 OR (response_status IS NULL AND created_at < ?4))");
    sqlite3_stmt *claim_insert = prepare(
        "INSERT INTO idempotency_keys (organization_id, mode, idempotency_key, fingerprint, created_at) VALUES (?1, 'test', ?2, 'fp', ?3) "
        "ON CONFLICT (organization_id, mode, idempotency_key) DO NOTHING RETURNING idempotency_key");
    sqlite3_stmt *complete = prepare(
        "UPDATE idempotency_keys SET response_status = 201, response_body = ?3 WHERE organization_id = ?1 AND mode = 'test' "
        "AND idempotency_key = ?2");
    sqlite3_stmt *organization = prepare("SELECT * FROM organizations WHERE id = ?1");
    sqlite3_stmt *customer = prepare("SELECT * FROM customers WHERE organization_id = ?1 AND mode = 'test' AND id = 'cus_bench'");
    sqlite3_stmt *insert_link = prepare(
        "INSERT INTO cancel_links (id, organization_id, mode, token_hash, customer_id, subscription_id, single_use, status, expires_at, "
        "created_at, return_url, metadata, exchange_count) VALUES (?1, ?2, 'test', ?3, 'cus_bench', NULL, 1, 'active', ?4, ?5, NULL, '{}', 0)");
    sqlite3_stmt *endpoints = prepare(
        "SELECT id, events FROM webhook_endpoints WHERE organization_id = ?1 AND mode = 'test' AND disabled_at IS NULL AND deleted_at IS NULL");
    sqlite3_stmt *link_by_hash = prepare("SELECT * FROM cancel_links WHERE token_hash = ?1");
    sqlite3_stmt *consume = prepare(
        "UPDATE cancel_links SET status = CASE WHEN single_use THEN 'consumed' ELSE status END, consumed_at = CASE WHEN single_use THEN ?2 "
        "ELSE consumed_at END, exchange_count = exchange_count + 1 WHERE token_hash = ?1 AND status = 'active' AND expires_at > ?2 RETURNING *");
    sqlite3_stmt *insert_session = prepare(
        "INSERT INTO flow_sessions (id, session_hash, link_id, organization_id, mode, customer_id, subscription_id, offer_declined, entry, "
        "return_url, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, 'test', 'cus_bench', NULL, 0, 'link', NULL, ?5, ?6)");
    sqlite3_stmt *insert_exchange = prepare("INSERT INTO link_exchanges (id, link_id, flow_session_id, exchanged_at) VALUES (?1, ?2, ?3, ?4)");

    char (*hashes)[65] = malloc(sizeof(*hashes) * count);
    char (*link_ids)[40] = malloc(sizeof(*link_ids) * count);
    char id[64], key[64], hash[65], body[601];
    memset(body, 'x', 600);
    body[600] = 0;

    /* Mints: every second one under an idempotency key (claim before, completion after), as the
     * harness's HTTP mix does. */
    double started = seconds();
    for (int i = 0; i < count; i++) {
        snprintf(key, sizeof key, "lim-%lld-%d-%d", now, (int)getpid(), i);
        if (i % 2 == 1) {
            sqlite3_bind_text(claim_delete, 1, org, -1, SQLITE_STATIC);
            sqlite3_bind_text(claim_delete, 2, key, -1, SQLITE_STATIC);
            sqlite3_bind_int64(claim_delete, 3, now - 86400000);
            sqlite3_bind_int64(claim_delete, 4, now - 60000);
            step(claim_delete);
            sqlite3_bind_text(claim_insert, 1, org, -1, SQLITE_STATIC);
            sqlite3_bind_text(claim_insert, 2, key, -1, SQLITE_STATIC);
            sqlite3_bind_int64(claim_insert, 3, now);
            step(claim_insert);
        }
        sqlite3_bind_text(organization, 1, org, -1, SQLITE_STATIC);
        step(organization);
        sqlite3_bind_text(customer, 1, org, -1, SQLITE_STATIC);
        step(customer);
        if (i % batch == 0) exec("BEGIN IMMEDIATE");
        snprintf(id, sizeof id, "cs_lim%lld_%d_%d", now, (int)getpid(), i);
        random_hex(hash, 32);
        sqlite3_bind_text(insert_link, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(insert_link, 2, org, -1, SQLITE_STATIC);
        sqlite3_bind_text(insert_link, 3, hash, -1, SQLITE_STATIC);
        sqlite3_bind_int64(insert_link, 4, now + 86400000);
        sqlite3_bind_int64(insert_link, 5, now);
        step(insert_link);
        sqlite3_bind_text(endpoints, 1, org, -1, SQLITE_STATIC);
        step(endpoints);
        if (i % batch == batch - 1 || i == count - 1) exec("COMMIT");
        if (i % 2 == 1) {
            sqlite3_bind_text(complete, 1, org, -1, SQLITE_STATIC);
            sqlite3_bind_text(complete, 2, key, -1, SQLITE_STATIC);
            sqlite3_bind_text(complete, 3, body, -1, SQLITE_STATIC);
            step(complete);
        }
        memcpy(hashes[i], hash, 65);
        memcpy(link_ids[i], id, strlen(id) + 1);
    }
    double mint = count / (seconds() - started);

    /* Exchanges of the links just minted. */
    started = seconds();
    for (int i = 0; i < count; i++) {
        sqlite3_bind_text(link_by_hash, 1, hashes[i], -1, SQLITE_STATIC);
        step(link_by_hash);
        sqlite3_bind_text(organization, 1, org, -1, SQLITE_STATIC);
        step(organization);
        if (i % batch == 0) exec("BEGIN IMMEDIATE");
        sqlite3_bind_text(consume, 1, hashes[i], -1, SQLITE_STATIC);
        sqlite3_bind_int64(consume, 2, now);
        step(consume);
        snprintf(id, sizeof id, "fs_lim%lld_%d_%d", now, (int)getpid(), i);
        random_hex(hash, 32);
        sqlite3_bind_text(insert_session, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(insert_session, 2, hash, -1, SQLITE_STATIC);
        sqlite3_bind_text(insert_session, 3, link_ids[i], -1, SQLITE_STATIC);
        sqlite3_bind_text(insert_session, 4, org, -1, SQLITE_STATIC);
        sqlite3_bind_int64(insert_session, 5, now);
        sqlite3_bind_int64(insert_session, 6, now + 3600000);
        step(insert_session);
        snprintf(key, sizeof key, "lx_lim%lld_%d_%d", now, (int)getpid(), i);
        sqlite3_bind_text(insert_exchange, 1, key, -1, SQLITE_STATIC);
        sqlite3_bind_text(insert_exchange, 2, link_ids[i], -1, SQLITE_STATIC);
        sqlite3_bind_text(insert_exchange, 3, id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(insert_exchange, 4, now);
        step(insert_exchange);
        sqlite3_bind_text(endpoints, 1, org, -1, SQLITE_STATIC);
        step(endpoints);
        if (i % batch == batch - 1 || i == count - 1) exec("COMMIT");
    }
    double exchange = count / (seconds() - started);
    printf("{\"mint\": %.1f, \"exchange\": %.1f}\n", mint, exchange);
    sqlite3_close(db);
    return 0;
}
