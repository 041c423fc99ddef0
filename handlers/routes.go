package handlers

import (
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// routes is the one place every route of agora is declared.
func (s *Server) routes() {
	e := s.echo
	e.HideBanner, e.HidePort = true, true
	// The client's address keys the login and signup limits. It is the
	// peer's, unless a trusted proxy (loopback or private network) says whom
	// it forwards for.
	e.IPExtractor = echo.ExtractIPDirect()
	if s.trustProxy {
		e.IPExtractor = echo.ExtractIPFromXFFHeader()
	}
	e.HTTPErrorHandler = s.handleError
	e.Use(s.observe)
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{LogErrorFunc: recovered, DisableErrorHandler: true}))
	e.Use(s.secureHeaders)
	e.Use(middleware.BodyLimit("64K"))
	e.Use(readForm)
	e.Use(s.crossOrigin)

	// These answer without looking up a session, so they keep answering
	// (healthz with 503) when the database does not.
	e.GET("/healthz", s.handleHealth)
	e.GET("/assets/*", s.handleAsset)

	pages := e.Group("", s.loadSession)
	pages.GET("/signup", s.handleSignupPage)
	pages.POST("/signup", s.handleSignup)
	pages.GET("/login", s.handleLoginPage)
	pages.POST("/login", s.handleLogin)
	pages.POST("/logout", s.handleLogout)
	pages.GET("/guest", s.handleGuestPage)
	pages.POST("/guest", s.handleGuest)

	auth := pages.Group("", s.requireUser)
	auth.GET("/me.css", s.handleMeCSS)
	auth.GET("/", s.handleLobby)
	auth.POST("/rooms", s.handleCreateRoom)
	auth.GET("/rooms/:slug", s.handleRoom)
	auth.GET("/rooms/:slug/messages", s.handleOlderMessages)
	auth.POST("/rooms/:slug/messages", s.handlePostMessage)
	auth.POST("/rooms/:slug/leave", s.handleLeave)
	auth.GET("/rooms/:slug/ws", s.handleSocket)
	auth.POST("/rooms/:slug/members", s.handleAddMember)
	auth.POST("/rooms/:slug/members/remove", s.handleRemoveMember)
	auth.GET("/dm", s.handleDMForm)
	auth.GET("/dm/:username", s.handleDM)
	auth.GET("/messages/:id", s.handleMessage)
	auth.GET("/messages/:id/view", s.handleViewMessage)
	auth.GET("/messages/:id/edit", s.handleEditPage)
	auth.POST("/messages/:id/edit", s.handleEdit)
	auth.POST("/messages/:id/delete", s.handleDelete)
	auth.POST("/messages/:id/reactions", s.handleReaction)
	auth.GET("/search", s.handleSearch)
	auth.GET("/settings/profile", s.handleProfilePage)
	auth.POST("/settings/profile", s.handleProfile)
}
