// Package frame decodes what a browser sends over a room socket. It is a
// package of its own so that it can be fuzzed without building the server.
package frame

import (
	"encoding/json"
	"unicode/utf8"

	"github.com/coder/websocket"
)

// Close codes for frames the server refuses: the client should not retry
// (the same as chat/live's CloseUnsupported and CloseBadPayload).
const (
	CloseUnsupported = websocket.StatusUnsupportedData         // binary frames
	CloseBadPayload  = websocket.StatusInvalidFramePayloadData // invalid UTF-8, not JSON
)

// Frame is what htmx-ext-ws sends: the sending element's form values and
// htmx's request headers under HEADERS. HX-Trigger is the sending element's id.
type Frame struct {
	Body        string            `json:"body"`
	ClientMsgID string            `json:"client_msg_id"`
	ThreadID    string            `json:"thread_id"`    // a reply: the root's id (a form value, so a string)
	AlsoToRoom  string            `json:"also_to_room"` // "1": a reply shown in the room's list too
	Visible     string            `json:"visible"`      // HX-Trigger "visibility": "0" the page is hidden, else visible
	SendAt      string            `json:"send_at"`      // the composer's "send later" time, if set
	UpTo        string            `json:"up_to"`        // a read signal: the last message id the page shows
	Headers     map[string]string `json:"HEADERS"`
}

// Decode reads one frame: a text message of valid UTF-8 holding a JSON
// object. A frame it refuses comes back with the close code and reason to
// end the socket with.
func Decode(typ websocket.MessageType, data []byte) (Frame, websocket.StatusCode, string) {
	var f Frame
	if typ != websocket.MessageText {
		return f, CloseUnsupported, "text frames only"
	}
	if !utf8.Valid(data) {
		return f, CloseBadPayload, "invalid UTF-8"
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return Frame{}, CloseBadPayload, "frames are JSON objects"
	}
	return f, 0, ""
}
