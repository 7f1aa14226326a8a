package client

// Internal functions the external tests (package client_test, which may
// import internal/pgtest) exercise against a real database.
var (
	DeleteSessions         = deleteSessions
	DecodePendingSessions  = decodePendingSessions
	DeleteOwnedSessionsSQL = deleteOwnedSessionsSQL
)
