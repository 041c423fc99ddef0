package live

import "agora/chat"

// A room's fragments are written in the language of each reader's page.
// Each is still made once per delivery, not once per socket: once for each
// language the room's open sockets read, the first time a socket reading it
// needs it, and the same bytes go to every socket of that language. English
// is made before delivery, so a room where everyone reads English costs
// what it did before languages.

// langIndex is a language code's place in chat.Languages: 0, English, for
// anything else.
func langIndex(code string) uint8 {
	for i, c := range chat.Languages {
		if c == code {
			return uint8(i)
		}
	}
	return 0
}

// Fragment is a fragment in English and, when its words depend on the
// language, how to write it in another one.
type Fragment struct {
	Data []byte
	// In renders the fragment in the language of code (one of
	// chat.Languages other than "en"); nil when every reader gets Data.
	In func(code string) []byte
}

// Text is a fragment with no words of the server's own: the same for all.
func Text(data []byte) Fragment { return Fragment{Data: data} }

// byLang hands out one delivery's frame in each socket's language, making
// the other languages' bytes on first need. It is used by one goroutine, for
// one delivery, and kept on its stack.
type byLang struct {
	frame Frame
	in    func(string) []byte
	other []Frame // by langIndex; made when a socket first reads another language
}

func newByLang(f Frame, in func(string) []byte) byLang { return byLang{frame: f, in: in} }

// frameFor is the frame in s's language.
func (b *byLang) frameFor(s *Subscriber) Frame {
	if s.lang == 0 || b.in == nil {
		return b.frame
	}
	if b.other == nil {
		b.other = make([]Frame, len(chat.Languages))
	}
	f := &b.other[s.lang]
	if f.Data == nil {
		*f = b.frame
		f.Data = b.in(chat.Languages[s.lang])
	}
	return *f
}
