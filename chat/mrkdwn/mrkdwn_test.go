package mrkdwn

import "testing"

func TestConvert(t *testing.T) {
	for in, want := range map[string]string{
		"*Deploy* finished":                        "**Deploy** finished",
		"a *bold claim* here.":                     "a **bold claim** here.",
		"2*3*4 and a * star":                       "2*3*4 and a * star",
		"*not closed":                              "*not closed",
		"*two\nlines*":                             "*two\nlines*",
		"see <https://ci.example/1|build #1>":      "see build #1 (https://ci.example/1)",
		"<https://example.com>":                    "https://example.com",
		"<https://example.com|*bold label*>":       "**bold label** (https://example.com)",
		"hi <@U024BE7LH> in <#C024BE7LR|general>":  "hi @U024BE7LH in #general",
		"<!here> <!channel> <!subteam^S1|@design>": "@here @channel @design",
		"a &lt;b&gt; &amp; c":                      "a <b> & c",
		"`*code*` stays, *this* not":               "`*code*` stays, **this** not",
		"```\n*pre*\n```":                          "```\n*pre*\n```",
		":white_check_mark: _fine_ ~gone~":         ":white_check_mark: _fine_ ~gone~",
		"<not a link> x < y":                       "<not a link> x < y",
	} {
		if got := Convert(in); got != want {
			t.Errorf("Convert(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBody(t *testing.T) {
	for name, c := range map[string]struct{ in, want string }{
		"text": {`{"text":"*hi*"}`, "**hi**"},
		"blocks replace text": {`{"text":"fallback","blocks":[{"type":"header","text":{"type":"plain_text","text":"Release 1.2"}},
			{"type":"section","text":{"type":"mrkdwn","text":"*Status:* <https://x.example/r|done>"},"fields":[{"type":"mrkdwn","text":"*Env*\nprod"}]},
			{"type":"divider"},{"type":"context","elements":[{"type":"mrkdwn","text":"by ci"},{"type":"image","image_url":"https://x.example/i.png","alt_text":"logo"}]}]}`,
			"**Release 1.2**\n**Status:** done (https://x.example/r)\n**Env**\nprod\nby ci · logo"},
		"rich text": {`{"blocks":[{"type":"rich_text","elements":[{"type":"rich_text_section","elements":[{"type":"text","text":"Hello "},{"type":"text","text":"there","style":{"bold":true}},{"type":"emoji","name":"wave"},{"type":"link","url":"https://a.example","text":"site"}]},
			{"type":"rich_text_list","elements":[{"type":"rich_text_section","elements":[{"type":"text","text":"one"}]}]}]}]}`,
			"Hello **there**:wave:site (https://a.example)\n- one"},
		"attachment": {`{"text":"Build","attachments":[{"color":"good","pretext":"pre","author_name":"ci","title":"Job 7","title_link":"https://ci.example/7","text":"*ok*","fields":[{"title":"Branch","value":"main","short":true}],"footer":"agora-ci"}]}`,
			"Build\n\npre\nci\n**Job 7** https://ci.example/7\n**ok**\n**Branch**: main\nagora-ci"},
		"fallback only": {`{"attachments":[{"fallback":"just this"}]}`, "just this"},
	} {
		p, err := Parse([]byte(c.in))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := p.Body()
		if err != nil || got != c.want {
			t.Errorf("%s: Body() = %q, %v; want %q", name, got, err, c.want)
		}
	}
	for _, in := range []string{`{}`, `{"text":"  "}`, `{"blocks":[{"type":"divider"}]}`, `{"attachments":[{"color":"danger"}]}`} {
		p, _ := Parse([]byte(in))
		if _, err := p.Body(); err != ErrNoText {
			t.Errorf("%s: %v, want ErrNoText", in, err)
		}
	}
}
