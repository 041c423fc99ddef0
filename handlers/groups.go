package handlers

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/chat/markup"
	"agora/views"
)

// Groups: admins keep named sets of accounts, and a message that mentions
// @name mentions each member who can read its room. The mention is
// expanded on the one message path (mentionGroups), so the form, the
// socket, the API, bots and hooks all reach the same people.

// mentionGroups finds which of m's mentions are groups and whom they reach:
// each member the access policy lets read the room, the author aside. m is
// parsed (markup.Message); its group mentions are marked for rendering.
func (s *Server) mentionGroups(ctx context.Context, author chat.User, room chat.Room, m chat.Message) (chat.Message, error) {
	m.Groups, m.GroupMembers = nil, nil
	if len(m.Mentions) == 0 {
		return m, nil
	}
	groups, found, err := s.store.GroupMentions(ctx, room.ID, m.Mentions)
	if err != nil || len(groups) == 0 {
		return m, err
	}
	m.Groups = groups
	for _, gm := range found {
		if gm.User.ID == author.ID || !chat.Access(gm.User, room, gm.Member).Read {
			continue
		}
		if name := strings.ToLower(gm.User.Username); !slices.Contains(m.GroupMembers, name) {
			m.GroupMembers = append(m.GroupMembers, name)
		}
	}
	markup.MarkGroups(m.Spans, m.Groups)
	return m, nil
}

// groupPage is what the groups page shows besides the groups.
type groupPage struct {
	status    int
	ok, error string
	name      string // the name typed into the form that failed, to try again
}

func (s *Server) handleAdminGroups(c echo.Context) error {
	return s.renderAdminGroups(c, groupPage{status: http.StatusOK, ok: s.takeFlash(c)})
}

func (s *Server) renderAdminGroups(c echo.Context, gp groupPage) error {
	groups, err := s.store.Groups(c.Request().Context())
	if err != nil {
		return err
	}
	p, audit, err := s.adminPage(c, "Admin: groups")
	if err != nil {
		return err
	}
	return render(c, gp.status, views.AdminGroupsPage(p, groups, audit, gp.ok, gp.error, gp.name))
}

// adminGroupsError shows a refusal on the groups page with its status; an
// internal error goes to the error page.
func (s *Server) adminGroupsError(c echo.Context, err error, typed string) error {
	code := chat.ErrorCode(err)
	if code == chat.EInternal {
		return err
	}
	return s.renderAdminGroups(c, groupPage{status: statusOf[code], error: chat.ErrorMessage(err), name: typed})
}

// handleCreateGroup makes a group: field name, in the username alphabet,
// never a name a username could be mistaken for (nor the other way round).
func (s *Server) handleCreateGroup(c echo.Context) error {
	u, _ := userFrom(c)
	name := strings.TrimSpace(c.FormValue("name"))
	name = strings.TrimPrefix(name, "@")
	if err := chat.ValidateGroupName(name); err != nil {
		return s.adminGroupsError(c, err, strings.ToValidUTF8(c.FormValue("name"), "\uFFFD"))
	}
	g, err := s.store.CreateGroup(c.Request().Context(), name, u.ID)
	if err != nil {
		return s.adminGroupsError(c, err, name)
	}
	if err := s.audit(c, "made group", "@"+g.Name, ""); err != nil {
		return err
	}
	return s.adminDone(c, "/admin/groups", "@"+g.Name+" is made. Add its members below.")
}

// handleAddGroupMember adds the account named by field username to the
// group in the path.
func (s *Server) handleAddGroupMember(c echo.Context) error {
	ch, err := s.store.AddGroupMember(c.Request().Context(), c.Param("name"), formUsername(c))
	if err != nil {
		return s.adminGroupsError(c, err, "")
	}
	if !ch.Changed {
		return s.adminDone(c, "/admin/groups", ch.User.Username+" is in @"+ch.Group+" already.")
	}
	if err := s.audit(c, "added to group", ch.User.Username, "@"+ch.Group); err != nil {
		return err
	}
	return s.adminDone(c, "/admin/groups", ch.User.Username+" is now in @"+ch.Group+".")
}

// handleRemoveGroupMember takes the account named by field username out of
// the group in the path. Someone who is not in it is an error (422): the
// form offered only its members.
func (s *Server) handleRemoveGroupMember(c echo.Context) error {
	ch, err := s.store.RemoveGroupMember(c.Request().Context(), c.Param("name"), formUsername(c))
	if err == nil && !ch.Changed {
		err = chat.Errorf(chat.EInvalid, "%s is not in @%s: nothing was removed.", ch.User.Username, ch.Group)
	}
	if err != nil {
		return s.adminGroupsError(c, err, "")
	}
	if err := s.audit(c, "removed from group", ch.User.Username, "@"+ch.Group); err != nil {
		return err
	}
	return s.adminDone(c, "/admin/groups", ch.User.Username+" is no longer in @"+ch.Group+".")
}

// formUsername is the form's username field, as typed or as a mention.
func formUsername(c echo.Context) string {
	return strings.TrimPrefix(strings.TrimSpace(c.FormValue("username")), "@")
}
