//go:build e2e

// Browser tests of what admins keep for an organisation: groups made and
// filled through the page's plain forms, and a group mention that stands
// out for the group's members alone. Screenshots go to testdata/screenshots.
package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
)

// highlightOf tells whether the message holding text is highlighted as a
// mention of the reader, and whether its group mention wears the reader's
// own mention colour (every mention has a quieter background).
func (b *browser) highlightOf(text string) (message, mention bool) {
	b.t.Helper()
	got := evalJS[[2]bool](b, fmt.Sprintf(`(id => {
		const m = document.getElementById(id), g = m.querySelector('.mention[data-group]');
		const probe = document.createElement('span');
		probe.style.background = 'var(--mention)';
		m.append(probe);
		const marked = getComputedStyle(probe).backgroundColor;
		probe.remove();
		return [getComputedStyle(m).boxShadow.includes('inset'), !!g && getComputedStyle(g).backgroundColor === marked];
	})(%s)`, jsString(b.messageIDOf(text))))
	return got[0], got[1]
}

// TestE2EGroups: an admin makes @design and adds bob with the page's forms
// (a name that is a username is refused on the page); alice's @design
// reaches bob live and stands out for him, not for alice, who is not in it.
func TestE2EGroups(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	srv := newServer(t)
	alice := newBrowser(t, ctx, "alice", true)
	bob := newBrowser(t, ctx, "bob", true)
	alice.signUp(srv, "alice")
	bob.signUp(srv, "bob")

	alice.openPage(srv, "/admin/groups", false)
	alice.fill("a group named like a user", [2]string{`#new-group input[name="name"]`, "BOB"})
	if st := alice.press("make it", `#new-group button[type="submit"]`); st != http.StatusConflict {
		t.Fatalf("a group called BOB answered %d\n%s", st, alice.pageSummary())
	}
	alice.expectText("#form-error", "username")
	alice.fill("the group's name", [2]string{`#new-group input[name="name"]`, "design"})
	if st := alice.press("make it", `#new-group button[type="submit"]`); st != http.StatusOK {
		t.Fatalf("making @design landed on %d\n%s", st, alice.pageSummary())
	}
	alice.fill("bob as a member", [2]string{`#group-design input[name="username"]`, "bob"})
	alice.press("add him", `#group-design form[action$="/members"] button[type="submit"]`)
	alice.expectText("#group-design .group-members", "bob")
	alice.auditPage(srv, "admin-groups", "/admin/groups", false)

	bob.openRoom(srv, "general")
	alice.openRoom(srv, "general")
	alice.sendComposed("@design the mockups are in", "the mockups are in")
	bob.waitJS("alice's group mention, live", hasMessageJS("the mockups are in"), liveWait)
	if msg, mention := bob.highlightOf("the mockups are in"); !msg || !mention {
		t.Errorf("for bob, in @design, the message is highlighted %v and the mention %v; want both", msg, mention)
	}
	if msg, mention := alice.highlightOf("the mockups are in"); msg || mention {
		t.Errorf("for alice, not in @design, the message is highlighted %v and the mention %v; want neither", msg, mention)
	}
	bob.shots("e2e-group-mention")
}
