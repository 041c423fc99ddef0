package command

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"agora/chat"
	"agora/db"
	"agora/handlers"
)

// operator is who the audit list says did what `agora users` did: a person
// at the server's console, not an account.
var operator = chat.User{Username: "operator (agora users)"}

const usersUsage = `usage: agora users list [-db SOURCE]
       agora users create NAME [-db SOURCE] [-url BASE]
       agora users reset-password NAME [-db SOURCE] [-url BASE]
       agora users make-admin NAME [-db SOURCE]
       agora users deactivate NAME [-db SOURCE]

Operators' commands on the store, safe while agora runs: a running server sees
the change (a deactivated account's sockets close on every node within seconds).
create and reset-password print a one-time link that sets a password (valid
24 hours), never a password. create on a database that does not exist yet makes
it, with this first account as its admin.
`

// Users is `agora users`: the operator's commands on accounts, straight on
// the store (SQLite or PostgreSQL), while servers may be running on it.
func Users(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("agora users", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usersUsage+"\nflags:\n")
		fs.PrintDefaults()
	}
	source := fs.String("db", envOr(getenv, "CHAT_DB", "agora.db"), "the database: a SQLite file or a postgres:// URL (env CHAT_DB)")
	base := fs.String("url", envOr(getenv, "CHAT_URL", "http://"+envOr(getenv, "CHAT_ADDR", "127.0.0.1:8080")),
		"the address people reach agora at, which starts the printed links (env CHAT_URL)")
	// Flags may come before or after the words: `agora users list -db x`.
	words, err := parseAnywhere(fs, args[1:])
	if err != nil || words == nil {
		return err
	}
	if len(words) == 0 {
		fs.Usage()
		return errors.New("users: say what to do: list, create, reset-password, make-admin or deactivate")
	}
	verb, names := words[0], words[1:]
	wantNames := 1
	if verb == "list" {
		wantNames = 0
	}
	switch verb {
	case "list", "create", "reset-password", "make-admin", "deactivate":
	default:
		fs.Usage()
		return fmt.Errorf("users: unknown command %q", verb)
	}
	if len(names) != wantNames {
		fs.Usage()
		if wantNames == 0 {
			return fmt.Errorf("users %s: takes no name", verb)
		}
		return fmt.Errorf("users %s: name one account", verb)
	}
	if isSQLiteFile(*source) && verb != "create" {
		// Opening a missing file would make an empty database: only the
		// first account of a server set up by script wants that.
		if _, err := os.Stat(*source); err != nil {
			return fmt.Errorf("users: %w", err)
		}
	}
	store, err := db.Open(ctx, *source)
	if err != nil {
		return err
	}
	defer store.Close()
	cmd := usersCommand{store: store, out: stdout, base: strings.TrimSuffix(*base, "/")}
	if verb == "list" {
		return cmd.list(ctx)
	}
	name := strings.TrimPrefix(names[0], "@")
	switch verb {
	case "create":
		return cmd.create(ctx, name)
	case "reset-password":
		return cmd.resetPassword(ctx, name)
	case "make-admin":
		return cmd.makeAdmin(ctx, name)
	default:
		return cmd.deactivate(ctx, name)
	}
}

type usersCommand struct {
	store *db.Store
	out   io.Writer
	base  string
}

func (u usersCommand) list(ctx context.Context) error {
	users, err := u.store.Users(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(u.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "USERNAME\tDISPLAY NAME\tROLE\tSTATE\tCREATED")
	for _, a := range users {
		role := "member"
		switch {
		case a.IsAdmin:
			role = "admin"
		case a.IsBot:
			role = "bot"
		case a.IsGuest:
			role = "guest"
		}
		state := "active"
		if a.Deactivated {
			state = "deactivated"
		}
		display := a.DisplayName
		if display == "" {
			display = "-"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", a.Username, display, role, state, a.CreatedAt.Format("2006-01-02 15:04"))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(u.out, "%d accounts\n", len(users))
	return nil
}

// create makes an account without a password, and prints the link that sets
// one. The first account of a server is its admin, as at sign-up.
func (u usersCommand) create(ctx context.Context, name string) error {
	if err := chat.ValidateUsername(name); err != nil {
		return fmt.Errorf("users create: %s", chat.ErrorMessage(err))
	}
	if taken, err := u.store.NameLooksTaken(ctx, name, 0); err != nil {
		return err
	} else if taken {
		return fmt.Errorf("users create: the name %q is taken, or looks too much like one that is", name)
	}
	// An empty hash matches no password: the account is reached through
	// the link, or not at all.
	a, err := u.store.CreateUser(ctx, name, "", "", false)
	if err != nil {
		return fmt.Errorf("users create: %s", chat.ErrorMessage(err))
	}
	if err := u.store.Audit(ctx, operator, "created account", a.Username, ""); err != nil {
		return err
	}
	role := ""
	if a.IsAdmin {
		role = " (the first account: an admin)"
	}
	fmt.Fprintf(u.out, "created %s%s\n", a.Username, role)
	return u.printLink(ctx, a)
}

// resetPassword prints a one-time link that sets the account's password.
// Nothing changes until it is used: then every session of the account ends.
func (u usersCommand) resetPassword(ctx context.Context, name string) error {
	a, err := u.account(ctx, name)
	if err != nil {
		return err
	}
	if a.IsGuest || a.IsBot {
		return fmt.Errorf("users reset-password: %s is a guest or a bot, which has no password", a.Username)
	}
	if a.Deactivated {
		return fmt.Errorf("users reset-password: %s is deactivated; reactivate it on /admin/users first", a.Username)
	}
	if err := u.store.Audit(ctx, operator, "made a password link", a.Username, ""); err != nil {
		return err
	}
	return u.printLink(ctx, a)
}

func (u usersCommand) printLink(ctx context.Context, a chat.User) error {
	token, err := handlers.NewPasswordLink(ctx, u.store, a.ID, handlers.PasswordLinkTTL)
	if err != nil {
		return err
	}
	fmt.Fprintf(u.out, "a one-time link that sets the password of %s, valid %s:\n%s/password/reset/%s\n",
		a.Username, handlers.PasswordLinkTTL, u.base, token)
	return nil
}

func (u usersCommand) makeAdmin(ctx context.Context, name string) error {
	a, err := u.account(ctx, name)
	if err != nil {
		return err
	}
	if a.IsGuest || a.IsBot || a.Deactivated {
		return fmt.Errorf("users make-admin: only an active person's account can be an admin, and %s is not one", a.Username)
	}
	if a.IsAdmin {
		fmt.Fprintf(u.out, "%s is an admin already\n", a.Username)
		return nil
	}
	if err := u.store.SetAdmin(ctx, a.ID, true); err != nil {
		return err
	}
	if err := u.store.Audit(ctx, operator, "made admin", a.Username, ""); err != nil {
		return err
	}
	fmt.Fprintf(u.out, "%s is an admin now\n", a.Username)
	return nil
}

// deactivate ends the account's sessions in the store at once (so its next
// request on any node is refused); every running node closes its sockets
// when it next looks for deactivations.
func (u usersCommand) deactivate(ctx context.Context, name string) error {
	a, err := u.account(ctx, name)
	if err != nil {
		return err
	}
	if a.Deactivated {
		fmt.Fprintf(u.out, "%s is deactivated already\n", a.Username)
		return nil
	}
	if err := u.store.SetDeactivated(ctx, a.ID, true); err != nil {
		return err
	}
	if err := u.store.Audit(ctx, operator, "deactivated", a.Username, ""); err != nil {
		return err
	}
	fmt.Fprintf(u.out, "%s is deactivated: its sessions and tokens stop working now, and running servers close its sockets within seconds; nothing it wrote is lost\n", a.Username)
	return nil
}

func (u usersCommand) account(ctx context.Context, name string) (chat.User, error) {
	a, err := u.store.UserByUsername(ctx, name)
	if chat.ErrorCode(err) == chat.ENotFound {
		return chat.User{}, fmt.Errorf("users: no account is called %q (agora users list shows them all)", name)
	}
	return a, err
}

// isSQLiteFile tells a SQLite file's path from a PostgreSQL URL, as db.Open
// does: a missing file must be refused before opening it would make one.
func isSQLiteFile(dsn string) bool {
	return !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://")
}

// envOr is the environment's value for key, or fallback when it is unset.
func envOr(getenv func(string) string, key, fallback string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return fallback
}
