package frame

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/coder/websocket"
)

// FuzzDecode feeds the socket's frame decoder anything a client could
// send: it never panics, refuses with a close code the client must not retry
// (1003 for binary, 1007 for the rest), and accepts only UTF-8 JSON objects,
// whose fields it hands on as valid UTF-8.
func FuzzDecode(f *testing.F) {
	f.Add(true, []byte(`{"body":"hello","client_msg_id":"c-1","HEADERS":{"HX-Request":"true","HX-Trigger":"composer","HX-Trigger-Name":null,"HX-Target":"composer","HX-Current-URL":"http://x/rooms/general"}}`))
	f.Add(true, []byte(`{"HEADERS":{"HX-Trigger":"typing-signal"}}`))
	f.Add(true, []byte(`{"body":"\ud800 \u0000 <script>","HEADERS":{"HX-Trigger":1}}`))
	f.Add(true, []byte(`[1,2,3]`))
	f.Add(true, []byte(`null`))
	f.Add(true, []byte("{\"body\":\"\xff\"}"))
	f.Add(true, []byte(`{"body":"a","body":"b","HEADERS":{"HX-Trigger":"composer","HX-Trigger":"typing-signal"}}`))
	f.Add(false, []byte(`{"body":"binary"}`))
	f.Add(true, []byte(``))
	f.Fuzz(func(t *testing.T, text bool, data []byte) {
		typ := websocket.MessageBinary
		if text {
			typ = websocket.MessageText
		}
		frame, code, reason := Decode(typ, data)
		switch {
		case !text:
			if code != CloseUnsupported {
				t.Fatalf("a binary frame got close code %d, want %d", code, CloseUnsupported)
			}
		case code == 0:
			if !utf8.Valid(data) || !json.Valid(data) {
				t.Fatalf("accepted %q, which is not UTF-8 JSON", data)
			}
			if trimmed := bytes.TrimLeft(data, " \t\r\n"); len(trimmed) == 0 || (trimmed[0] != '{' && !bytes.HasPrefix(trimmed, []byte("null"))) {
				t.Fatalf("accepted %q, which is not a JSON object", data)
			}
			for _, s := range []string{frame.Body, frame.ClientMsgID, frame.Headers["HX-Trigger"]} {
				if !utf8.ValidString(s) {
					t.Fatalf("decoded %q to a field that is not UTF-8: %q", data, s)
				}
			}
		case code != CloseBadPayload:
			t.Fatalf("refused %q with close code %d, want %d", data, code, CloseBadPayload)
		}
		if code != 0 && reason == "" {
			t.Fatalf("refused %q without a reason", data)
		}
		if code != 0 && (frame.Body != "" || frame.Headers != nil) {
			t.Fatalf("refused %q but handed on %+v", data, frame)
		}
	})
}
