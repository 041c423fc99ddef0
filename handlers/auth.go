package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/chat/live"
	"agora/views"
)

const (
	cookieName       = "agora_session"
	secureCookieName = "__Host-agora_session" // behind TLS: bound to this host and path /
)

// dummyHash makes a login for an unknown username cost what a wrong password
// costs, so response times do not tell which usernames exist.
var dummyHash, _ = chat.HashPassword("not a real password")

func (s *Server) handleSignupPage(c echo.Context) error {
	return s.renderAuth(c, http.StatusOK, true, views.AuthForm{})
}

func (s *Server) handleLoginPage(c echo.Context) error {
	if _, ok := userFrom(c); ok {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	return s.renderAuth(c, http.StatusOK, false, views.AuthForm{Next: safeNext(c.QueryParam("next"))})
}

func (s *Server) renderAuth(c echo.Context, status int, signup bool, f views.AuthForm) error {
	p := views.Page{Assets: s.assetVersion, Title: "Log in"}
	f.Guests = s.guests
	f.OIDC, f.PasswordLogin = s.oidc != nil, !s.noPasswordLogin
	first, err := s.firstRun(c)
	if err != nil {
		return err
	}
	f.FirstRun, f.Signup = first, s.signup
	if signup {
		p.Title = "Sign up"
		if !first && s.signup != SignupOpen {
			// Nobody signs up here: the page says how to get in instead.
			return render(c, http.StatusForbidden, views.SignupClosedPage(p, s.signup))
		}
		return render(c, status, views.SignupPage(p, f))
	}
	return render(c, status, views.LoginPage(p, f))
}

// firstRun reports whether no account exists yet: the first one is made
// here whatever the signup mode, and becomes the admin.
func (s *Server) firstRun(c echo.Context) (bool, error) {
	has, err := s.store.HasAccounts(c.Request().Context())
	return !has, err
}

func (s *Server) handleSignup(c echo.Context) error {
	first, err := s.firstRun(c)
	if err != nil {
		return err
	}
	if !first && s.signup != SignupOpen {
		return s.renderAuth(c, http.StatusForbidden, true, views.AuthForm{})
	}
	// Where only the first account may be made here, "first" is checked
	// again where the account is inserted: many sign-ups at once on a new
	// server all saw no account yet.
	u, form, status, err := s.createAccount(c, "", s.signup != SignupOpen)
	if err != nil || status != 0 {
		if err != nil {
			return err
		}
		return s.renderAuth(c, status, true, form)
	}
	if err := s.startSession(c, u); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/")
}

// createAccount makes an account from the sign-up form, with an invite
// code or none, or only if it is the server's first (onlyFirst). A refusal
// comes back as the form to show again, with its status; err is for
// failures of ours.
func (s *Server) createAccount(c echo.Context, inviteCode string, onlyFirst bool) (chat.User, views.AuthForm, int, error) {
	ctx := c.Request().Context()
	username, password := strings.TrimSpace(c.FormValue("username")), c.FormValue("password")
	form := views.AuthForm{Username: username}
	refuse := func(err error) (chat.User, views.AuthForm, int, error) {
		if chat.ErrorCode(err) == chat.EInternal {
			return chat.User{}, form, 0, err
		}
		form.Error = chat.ErrorMessage(err)
		status := statusOf[chat.ErrorCode(err)]
		if status == http.StatusConflict {
			status = http.StatusUnprocessableEntity
		}
		return chat.User{}, form, status, nil
	}
	if s.noPasswordLogin {
		return refuse(errNoPasswords)
	}
	if !s.spendLogin("signup " + c.RealIP()) {
		return refuse(chat.Errorf(chat.ERateLimit, "Too many attempts. Please wait a minute and try again."))
	}
	if err := chat.ValidateUsername(username); err != nil {
		return refuse(err)
	}
	if err := chat.ValidatePassword(password); err != nil {
		return refuse(err)
	}
	// A username that looks like another's would let its owner pass for them.
	alike, err := s.store.NameLooksTaken(ctx, username, 0)
	if err != nil {
		return refuse(err)
	}
	if alike {
		return refuse(chat.Errorf(chat.EInvalid, "The username %q is taken, or looks too much like one that is.", username))
	}
	hash, err := s.hashPassword(hashFresh, password)
	if err != nil {
		return refuse(err)
	}
	var u chat.User
	switch {
	case inviteCode != "":
		u, err = s.store.CreateUserWithInvite(ctx, chat.HashToken(inviteCode), username, hash)
	case onlyFirst:
		u, err = s.store.CreateFirstUser(ctx, username, hash)
	default:
		u, err = s.store.CreateUser(ctx, username, "", hash, false)
	}
	if err != nil {
		return refuse(err)
	}
	return u, form, 0, nil
}

func (s *Server) handleLogin(c echo.Context) error {
	ctx := c.Request().Context()
	username, password := strings.TrimSpace(c.FormValue("username")), c.FormValue("password")
	form := views.AuthForm{Username: username, Next: safeNext(c.FormValue("next"))}
	if s.noPasswordLogin {
		form.Error = errNoPasswords.Message
		return s.renderAuth(c, http.StatusForbidden, false, form)
	}
	u, right, err := s.checkCredentials(ctx, c.RealIP(), username, password, false)
	switch {
	case chat.ErrorCode(err) == chat.ERateLimit:
		form.Error = chat.ErrorMessage(err)
		return s.renderAuth(c, http.StatusTooManyRequests, false, form)
	case err != nil:
		return err
	case !right:
		form.Error = "Wrong username or password."
		return s.renderAuth(c, http.StatusUnauthorized, false, form)
	}
	if u.Deactivated {
		form.Error = chat.ErrDeactivated.Message
		return s.renderAuth(c, http.StatusForbidden, false, form)
	}
	// A new session at every login: a token planted before login is worthless after it.
	if old := s.sessionToken(c); old != "" {
		_ = s.store.DeleteSession(ctx, chat.HashToken(old))
	}
	if err := s.startSession(c, u); err != nil {
		return err
	}
	next := form.Next
	if next == "" {
		next = "/"
	}
	return c.Redirect(http.StatusSeeOther, next)
}

// errNoPasswords refuses password login and sign-up on a server that signs
// people in through its OpenID Connect provider only.
var errNoPasswords = chat.Errorf(chat.EForbidden, "This server signs people in through its identity provider only: use the sign-in button.")

var errTooManyGuesses = chat.Errorf(chat.ERateLimit, "Too many failed attempts. Please wait a minute and try again.")

// checkCredentials checks a password as every password guess is checked
// (a login, the current password when changing it). Every attempt spends a
// token per address, per address and account, and per account before the
// password is hashed, so a burst is refused without costing a hash; a right
// password gives the tokens back, so people who type it right are never
// held up. A refusal by the limits or the hashing cap is an ERateLimit
// error; a wrong password (or an unknown username, which costs the same) is
// right == false.
//
// One address cannot lock an account for everyone: its guesses at one
// account spend the account's bucket at most at the rate of its own pair
// bucket, slower than the account's refills. Many addresses can; then an
// address the account has a session from still gets through, and so does a
// signed-in session checking its own password (signedIn). The same signals
// order the wait for a hashing slot (see hashGate).
func (s *Server) checkCredentials(ctx context.Context, ip, username, password string, signedIn bool) (u chat.User, right bool, err error) {
	account := strings.ToLower(username)
	ipKey, pairKey, userKey := "login "+ip, "pair "+account+" "+ip, "user "+account
	fresh := s.loginLimits.Full(ipKey)
	var refunds []func()
	refund := func() {
		for _, r := range refunds {
			r()
		}
	}
	for _, key := range []string{ipKey, pairKey} {
		r, ok := s.loginLimits.Take(key)
		if !ok {
			refund()
			return chat.User{}, false, errTooManyGuesses
		}
		refunds = append(refunds, r)
	}
	u, hash, err := s.store.UserCredentials(ctx, username)
	switch chat.ErrorCode(err) {
	case "":
	case chat.ENotFound:
		hash = dummyHash
	default:
		refund()
		return chat.User{}, false, err
	}
	// An address the account has a session from is likely its owner's.
	known := false
	if err == nil && !signedIn {
		var kerr error
		if known, kerr = s.store.HasSessionFrom(ctx, u.ID, ip); kerr != nil {
			refund()
			return chat.User{}, false, kerr
		}
	}
	priority := hashAny
	switch {
	case signedIn:
		priority = hashSignedIn
	case known:
		priority = hashKnown
	case fresh:
		priority = hashFresh
	}
	if r, ok := s.limitsOf(userKey).Take(userKey); ok {
		refunds = append(refunds, r)
	} else if !signedIn && !known {
		refund()
		return chat.User{}, false, errTooManyGuesses
	}
	right, gateErr := s.checkPassword(priority, account, hash, password)
	if gateErr != nil {
		refund()
		return chat.User{}, false, gateErr
	}
	if !right || err != nil || !chat.HasPassword(u) {
		// The failure counts on the other nodes of a cluster too.
		if s.shareSpend != nil {
			s.shareSpend(ipKey)
			s.shareSpend(pairKey)
			s.shareSpend(userKey)
		}
		return chat.User{}, false, nil
	}
	refund()
	return u, true, nil
}

func (s *Server) handleLogout(c echo.Context) error {
	if session := sessionFrom(c); session != "" {
		if err := s.store.DeleteSession(c.Request().Context(), []byte(session)); err != nil {
			return err
		}
		s.closer.CloseSession(session, live.ClosePolicy, "signed out")
	}
	clearSessionCookie(c)
	return c.Redirect(http.StatusSeeOther, "/login")
}

func (s *Server) startSession(c echo.Context, u chat.User) error {
	token, err := chat.NewToken()
	if err != nil {
		return err
	}
	expires := time.Now().Add(sessionTTL)
	if err := s.store.CreateSession(c.Request().Context(), chat.HashToken(token), u.ID, expires,
		userAgent(c), c.RealIP()); err != nil {
		return err
	}
	name := cookieName
	if s.isTLS(c) {
		name = secureCookieName
	}
	c.SetCookie(&http.Cookie{
		Name: name, Value: token, Path: "/", Expires: expires,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.isTLS(c),
	})
	return nil
}

// userAgent is the request's User-Agent as the sessions page keeps it: valid
// text of bounded length.
func userAgent(c echo.Context) string {
	ua := strings.ToValidUTF8(c.Request().UserAgent(), "")
	if len(ua) > 256 {
		ua = strings.ToValidUTF8(ua[:256], "")
	}
	return ua
}

// sessionToken is the session cookie's value. Behind TLS only the __Host-
// cookie counts: a plain one could have been planted over HTTP or by a
// sibling host.
func (s *Server) sessionToken(c echo.Context) string {
	names := []string{cookieName}
	if s.isTLS(c) {
		names = []string{secureCookieName}
	}
	for _, name := range names {
		if ck, err := c.Cookie(name); err == nil && ck.Value != "" {
			return ck.Value
		}
	}
	return ""
}

func clearSessionCookie(c echo.Context) {
	for _, name := range []string{cookieName, secureCookieName} {
		if _, err := c.Cookie(name); err == nil {
			c.SetCookie(&http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
				SameSite: http.SameSiteLaxMode, Secure: name == secureCookieName})
		}
	}
}

// safeNext keeps a post-login destination only if it is a path on this
// site, as a browser would read it: one leading '/', then no second '/' or
// '\' (browsers read '\' as '/'), no control or space characters anywhere
// (browsers drop tabs and newlines, so "/\t/host" would become "//host"),
// and nothing that parses as a scheme or host.
func safeNext(next string) string {
	if len(next) > 2048 || !strings.HasPrefix(next, "/") || len(next) > 1 && (next[1] == '/' || next[1] == '\\') {
		return ""
	}
	for _, r := range next {
		if r <= ' ' || r == 0x7f || r == '\\' || unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return ""
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" ||
		!strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return ""
	}
	return next
}
