package client

// Internal functions the external tests (package client_test, which may
// import internal/pgtest) exercise against a real database.
var (
	DeleteSessions         = deleteSessions
	DecodePendingSessions  = decodePendingSessions
	DeleteOwnedSessionsSQL = deleteOwnedSessionsSQL
)

// SetAfterSnapshotHook runs fn inside a split export, between the export
// of its snapshot and the other connections' import of it.
func SetAfterSnapshotHook(fn func()) { afterSnapshotHook = fn }
