package live

// The WebSocket close codes agora uses, in one table. htmx-ext-ws reconnects
// after 1006, 1011, 1012 and 1013 only, so "come back" and "go away" differ:
// a client told 1012 or 1013 reconnects with ?after= and catches up; one told
// 1008 or a 1003/1007/1009 stays closed and shows why.
const (
	CloseNormal         = 1000 // the client left (or the server ended a socket it no longer needs)
	CloseUnsupported    = 1003 // a binary frame: only text frames are spoken
	CloseBadPayload     = 1007 // a frame that is not UTF-8, or not a JSON object
	ClosePolicy         = 1008 // signed out, removed, deactivated, flooding: do not come back
	CloseTooBig         = 1009 // a frame over the read limit (sent by the WebSocket library)
	CloseInternal       = 1011 // the server failed: reconnect
	CloseServiceRestart = 1012 // the server is shutting down: reconnect to the next one
	CloseTryAgainLater  = 1013 // too slow to keep up: reconnect and catch up
)
