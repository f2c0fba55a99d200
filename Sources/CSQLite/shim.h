// The system's SQLite (libsqlite3-dev on Debian and Ubuntu; part of macOS's SDK). Reached through
// this system-library target rather than sqlite-nio's bundled copy, whose C target is internal to
// that package and not one of its products.
#include <sqlite3.h>
