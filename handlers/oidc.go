package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"agora/chat"
	"agora/views"
)

// OIDC is how the server signs people in with an OpenID Connect provider.
type OIDC struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	// Now, when set, is the clock ID tokens are checked against (tests).
	Now func() time.Time
	// Client, when set, is the HTTP client that reaches the provider.
	Client *http.Client
}

// oidcFlowCookie carries a sign-in's state, nonce and PKCE verifier across
// the provider's pages, in the browser that started it (so any node of a
// cluster can finish it). SameSite=Lax: the provider's redirect back is a
// top-level GET.
const oidcFlowCookie = "agora_oidc"

const oidcPath = "/login/oidc"

// oidcClient is the provider, found (discovery) on first use and kept: a
// provider that is down when agora starts does not stop it.
type oidcClient struct {
	cfg OIDC
	mu  sync.Mutex
	p   *oidc.Provider
}

func (o *oidcClient) provider(ctx context.Context) (*oidc.Provider, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.p != nil {
		return o.p, nil
	}
	if o.cfg.Client != nil {
		ctx = oidc.ClientContext(ctx, o.cfg.Client)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(ctx, o.cfg.Issuer)
	if err != nil {
		return nil, err
	}
	o.p = p
	return p, nil
}

func (o *oidcClient) ctx(ctx context.Context) context.Context {
	if o.cfg.Client != nil {
		return oidc.ClientContext(ctx, o.cfg.Client)
	}
	return ctx
}

func (o *oidcClient) oauth2(p *oidc.Provider, redirect string) *oauth2.Config {
	return &oauth2.Config{ClientID: o.cfg.ClientID, ClientSecret: o.cfg.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: redirect, Scopes: []string{oidc.ScopeOpenID, "profile", "email"}}
}

// oidcFailed ends a sign-in at the login page with what went wrong, and no
// session.
func (s *Server) oidcFailed(c echo.Context, status int, msg string, err error) error {
	if err != nil {
		s.log.Warn("oidc sign-in refused", "id", requestID(c), "reason", msg, "err", err)
	}
	s.clearOIDCFlow(c)
	return s.renderAuth(c, status, false, views.AuthForm{Error: msg})
}

func (s *Server) clearOIDCFlow(c echo.Context) {
	c.SetCookie(&http.Cookie{Name: oidcFlowCookie, Path: oidcPath, MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.isTLS(c)})
}

func (s *Server) redirectURL(c echo.Context) string { return s.origin(c) + oidcPath + "/callback" }

// handleOIDCLogin sends the browser to the provider with a fresh state, nonce
// and PKCE challenge (S256).
func (s *Server) handleOIDCLogin(c echo.Context) error {
	if s.oidc == nil {
		return echo.ErrNotFound
	}
	p, err := s.oidc.provider(c.Request().Context())
	if err != nil {
		return s.oidcFailed(c, http.StatusBadGateway, "The sign-in provider cannot be reached. Please try again later.", err)
	}
	state, err := chat.NewToken()
	if err != nil {
		return err
	}
	nonce, err := chat.NewToken()
	if err != nil {
		return err
	}
	verifier := oauth2.GenerateVerifier()
	flow := url.Values{"state": {state}, "nonce": {nonce}, "verifier": {verifier}, "next": {safeNext(c.QueryParam("next"))}}
	c.SetCookie(&http.Cookie{Name: oidcFlowCookie, Value: flow.Encode(), Path: oidcPath, MaxAge: 600,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.isTLS(c)})
	to := s.oidc.oauth2(p, s.redirectURL(c)).AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))
	return c.Redirect(http.StatusFound, to)
}

// handleOIDCCallback finishes a sign-in: the state must be the one this
// browser was sent with, the code is exchanged with the PKCE verifier, and
// the ID token is verified (signature, issuer, audience, expiry, nonce). The
// account is the one linked to the provider's subject, made on first
// sign-in; a name changed at the provider changes nothing here.
func (s *Server) handleOIDCCallback(c echo.Context) error {
	if s.oidc == nil {
		return echo.ErrNotFound
	}
	ctx := c.Request().Context()
	q := c.Request().URL.Query()
	if e := q.Get("error"); e != "" {
		return s.oidcFailed(c, http.StatusUnauthorized, "The sign-in provider refused: "+cleanProviderText(e+" "+q.Get("error_description")), nil)
	}
	ck, err := c.Cookie(oidcFlowCookie)
	var flow url.Values
	if err == nil {
		flow, err = url.ParseQuery(ck.Value)
	}
	if err != nil || flow.Get("state") == "" || q.Get("state") != flow.Get("state") {
		return s.oidcFailed(c, http.StatusBadRequest, "This sign-in did not start here, or took too long. Please sign in again.", errors.New("state does not match"))
	}
	p, err := s.oidc.provider(ctx)
	if err != nil {
		return s.oidcFailed(c, http.StatusBadGateway, "The sign-in provider cannot be reached. Please try again later.", err)
	}
	tok, err := s.oidc.oauth2(p, s.redirectURL(c)).Exchange(s.oidc.ctx(ctx), q.Get("code"), oauth2.VerifierOption(flow.Get("verifier")))
	if err != nil {
		return s.oidcFailed(c, http.StatusUnauthorized, "The sign-in provider did not confirm this sign-in. Please sign in again.", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return s.oidcFailed(c, http.StatusUnauthorized, "The sign-in provider sent no identity. Please sign in again.", errors.New("no id_token"))
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: s.oidc.cfg.ClientID, Now: s.oidc.cfg.Now}).Verify(s.oidc.ctx(ctx), raw)
	if err != nil {
		return s.oidcFailed(c, http.StatusUnauthorized, "The identity the sign-in provider sent could not be trusted (expired, or not for this server). Please sign in again.", err)
	}
	if idt.Nonce != flow.Get("nonce") {
		return s.oidcFailed(c, http.StatusUnauthorized, "The identity the sign-in provider sent was not for this sign-in. Please sign in again.", errors.New("nonce does not match"))
	}
	var claims struct {
		PreferredUsername string `json:"preferred_username"`
		Name              string `json:"name"`
		Email             string `json:"email"`
		EmailVerified     bool   `json:"email_verified"`
	}
	if err := idt.Claims(&claims); err != nil {
		return s.oidcFailed(c, http.StatusUnauthorized, "The identity the sign-in provider sent could not be read.", err)
	}
	// The ID token may carry no profile: the userinfo endpoint has it.
	if claims.PreferredUsername == "" && claims.Email == "" {
		if info, err := p.UserInfo(s.oidc.ctx(ctx), oauth2.StaticTokenSource(tok)); err == nil && info.Subject == idt.Subject {
			_ = info.Claims(&claims)
		}
	}
	verified := ""
	if claims.EmailVerified {
		verified = claims.Email
	}
	u, err := s.oidcAccount(ctx, idt.Issuer, idt.Subject, claims.PreferredUsername, claims.Email, verified, claims.Name)
	if err != nil {
		return err
	}
	if err := s.admit(u); err != nil {
		return s.oidcFailed(c, http.StatusForbidden, chat.ErrorMessage(err), nil)
	}
	s.clearOIDCFlow(c)
	if old := s.sessionToken(c); old != "" {
		_ = s.store.DeleteSession(ctx, chat.HashToken(old))
	}
	if err := s.startSession(c, u); err != nil {
		return err
	}
	next := flow.Get("next")
	if next == "" {
		next = "/"
	}
	return c.Redirect(http.StatusSeeOther, next)
}

// oidcAccount is the account linked to the subject; else the account a
// Slack import made for the provider's verified email, unclaimed until now;
// else a new one named from what the provider calls the person, made unique
// (ann, ann2, ann3...) and never one that looks like an existing name.
func (s *Server) oidcAccount(ctx context.Context, issuer, subject, preferred, email, verifiedEmail, name string) (chat.User, error) {
	u, err := s.store.UserByOIDC(ctx, issuer, subject)
	if chat.ErrorCode(err) != chat.ENotFound {
		return u, err
	}
	if verifiedEmail != "" {
		imported, err := s.store.ImportedAccountByEmail(ctx, verifiedEmail)
		if err == nil {
			err = s.store.LinkOIDC(ctx, imported.ID, issuer, subject)
			if err == nil {
				return imported, nil
			}
		}
		if code := chat.ErrorCode(err); code != chat.ENotFound && code != chat.EConflict {
			return chat.User{}, err
		}
	}
	source := preferred
	if source == "" {
		source = email
	}
	base := chat.CleanUsername(source)
	display, err := chat.ValidateDisplayName(name)
	if err != nil {
		display = ""
	}
	for i := 1; i <= 100; i++ {
		username := base
		if i > 1 {
			username = base + strconv.Itoa(i)
		}
		if taken, err := s.store.NameLooksTaken(ctx, username, 0); err != nil {
			return chat.User{}, err
		} else if taken {
			continue
		}
		d := display
		if d != "" {
			if taken, err := s.store.NameLooksTaken(ctx, d, 0); err != nil || taken {
				d = "" // a display name may not pass for someone's username
			}
		}
		u, err := s.store.CreateOIDCUser(ctx, issuer, subject, username, d)
		if chat.ErrorCode(err) == chat.EConflict {
			continue
		}
		return u, err
	}
	return chat.User{}, errors.New("oidc: no free username for " + base)
}

// cleanProviderText is a provider's error text fit for the page: short, one line.
func cleanProviderText(s string) string {
	s = strings.Join(strings.Fields(strings.ToValidUTF8(s, "")), " ")
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "") + "…"
	}
	return s
}
