package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// routes is the one place every route of agora is declared.
func (s *Server) routes() {
	e := s.echo
	e.HideBanner, e.HidePort = true, true
	// The client's address keys the login and signup limits. It is the
	// peer's, unless a trusted proxy (loopback or private network) says whom
	// it forwards for (see forwardedClient).
	e.IPExtractor = echo.ExtractIPDirect()
	if s.trustProxy {
		e.IPExtractor = forwardedClient
	}
	e.HTTPErrorHandler = s.handleError
	e.Use(s.observe)
	e.Use(s.language)
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{LogErrorFunc: recovered, DisableErrorHandler: true}))
	e.Use(s.secureHeaders)
	e.Use(compress())
	// The API reads its bodies itself, with the same limit, to answer in JSON;
	// a file upload streams its body under a limit of its own (-max-upload).
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: "64K", Skipper: func(c echo.Context) bool { return isAPI(c) || isUpload(c) }}))
	e.Use(readForm)
	e.Use(s.crossOrigin)

	// These answer without looking up a session, so they keep answering
	// (healthz with 503) when the database does not.
	e.GET("/healthz", s.handleHealth)
	e.GET("/assets/*", s.handleAsset)
	e.GET("/sw.js", s.handleServiceWorker)

	pages := e.Group("", s.loadSession)
	pages.GET("/signup", s.handleSignupPage)
	pages.POST("/signup", s.handleSignup)
	pages.GET("/login", s.handleLoginPage)
	pages.POST("/login", s.handleLogin)
	pages.POST("/logout", s.handleLogout)
	pages.GET(oidcPath, s.handleOIDCLogin)
	pages.GET(oidcPath+"/callback", s.handleOIDCCallback)
	pages.GET("/invite/:code", s.handleInvitePage)
	pages.POST("/invite/:code", s.handleInviteSignup)
	pages.GET("/guest", s.handleGuestPage)
	pages.POST("/guest", s.handleGuest)
	pages.GET("/password/reset/:token", s.handlePasswordLinkPage)
	pages.POST("/password/reset/:token", s.handlePasswordLink)
	pages.GET("/password/forgot", s.handleForgotPage)
	pages.POST("/password/forgot", s.handleForgot)
	pages.GET("/settings/email/verify/:token", s.handleVerifyEmail)
	pages.GET("/notifications/unsubscribe/:token", s.handleUnsubscribePage)
	pages.POST("/notifications/unsubscribe/:token", s.handleUnsubscribe)

	auth := pages.Group("", s.requireUser)
	auth.GET("/me.css", s.handleMeCSS)
	auth.GET("/", s.handleLobby)
	auth.GET("/rooms", s.handleRoomBrowser)
	auth.POST("/rooms", s.handleCreateRoom)
	auth.GET("/rooms/:slug", s.handleRoom)
	auth.GET("/rooms/:slug/messages", s.handleOlderMessages)
	auth.POST("/rooms/:slug/messages", s.handlePostMessage)
	auth.POST("/rooms/:slug/leave", s.handleLeave)
	auth.POST("/rooms/:slug/notify", s.handleRoomNotify)
	auth.POST("/rooms/:slug/topic", s.handleTopic)
	auth.POST("/rooms/:slug/join", s.handleJoin)
	auth.GET("/rooms/:slug/ws", s.handleSocket)
	auth.POST("/rooms/:slug/members", s.handleAddMember)
	auth.POST("/rooms/:slug/members/remove", s.handleRemoveMember)
	auth.GET("/dm", s.handleDMForm)
	auth.GET("/dm/:username", s.handleDM)
	auth.POST("/dm/:username", s.handleOpenDM)
	auth.GET("/messages/:id", s.handleMessage)
	auth.GET("/messages/:id/view", s.handleViewMessage)
	auth.GET("/messages/:id/edit", s.handleEditPage)
	auth.POST("/messages/:id/edit", s.handleEdit)
	auth.GET("/messages/:id/delete", s.handleDeletePage)
	auth.POST("/messages/:id/delete", s.handleDelete)
	auth.POST("/messages/:id/reactions", s.handleReaction)
	auth.POST("/messages/:id/pin", s.handlePin)
	auth.POST("/messages/:id/save", s.handleSave)
	auth.POST("/messages/:id/preview/remove", s.handleRemovePreview)
	auth.GET("/messages/:id/preview/image", s.handlePreviewImage)
	auth.GET("/rooms/:slug/pins", s.handlePins)
	auth.GET("/saved", s.handleSaved)
	auth.GET("/scheduled", s.handleScheduled)
	auth.POST("/scheduled/:id/edit", s.handleEditScheduled)
	auth.POST("/scheduled/:id/cancel", s.handleCancelScheduled)
	auth.POST("/messages/:id/remind", s.handleRemindMessage)
	auth.GET("/go", s.handleGo)
	auth.GET("/threads", s.handleThreads)
	auth.GET("/threads/:id", s.handleThread)
	auth.POST("/threads/:id/follow", s.handleFollow)
	auth.POST("/threads/:id/unfollow", s.handleUnfollow)
	auth.GET("/search", s.handleSearch)
	auth.GET("/emoji", s.handleEmoji)
	auth.GET("/emoji/:name", s.handleEmojiImage)
	auth.GET("/settings/profile", s.handleProfilePage)
	auth.GET("/avatars/:username", s.handleAvatar)
	auth.POST("/settings/profile", s.handleProfile)
	auth.POST("/settings/status", s.handleSetStatus)
	auth.GET("/settings/password", s.handlePasswordPage)
	auth.POST("/settings/password", s.handleChangePassword)
	auth.GET("/settings/email", s.handleEmailPage)
	auth.POST("/settings/email", s.handleSetEmail)
	auth.GET("/push/key", s.handlePushKey)
	auth.POST("/push/subscriptions", s.handlePushSubscribe)
	auth.POST("/push/subscriptions/delete", s.handlePushUnsubscribe)
	auth.GET("/settings/notifications", s.handleNotificationsPage)
	auth.POST("/settings/notifications", s.handleSetNotifications)
	auth.GET("/settings/privacy", s.handlePrivacyPage)
	auth.POST("/settings/privacy", s.handleSetPrivacy)
	auth.GET("/settings/sessions", s.handleSessionsPage)
	auth.POST("/settings/sessions/end-others", s.handleEndOtherSessions)
	auth.POST("/settings/sessions/:id/end", s.handleEndSession)
	auth.GET("/settings/tokens", s.handleTokensPage)
	auth.POST("/settings/tokens", s.handleCreateToken)
	auth.POST("/settings/tokens/:id/revoke", s.handleRevokeToken)
	auth.GET("/settings/export", s.handleMyExport)
	auth.POST("/rooms/:slug/files", s.handleUpload) // its own limit, -max-upload: see isUpload
	auth.GET("/files/:id/:name", s.handleFile)
	auth.GET("/files/:id/thumb/:name", s.handleThumb)

	// Slack-compatible incoming webhooks: the secret in the path is the
	// credential (see incoming_hooks.go).
	e.POST(hookPrefix+":secret", s.handleIncomingHook)

	// The API for bots and integrations: a bearer token, never the session
	// cookie (see api.go).
	e.GET("/api/v1/openapi.json", s.handleOpenAPI)
	api := e.Group("/api/v1", s.requireToken)
	api.GET("/me", s.handleAPIMe)
	api.GET("/events", s.handleAPIEvents)
	api.GET("/rooms", s.handleAPIRooms)
	api.POST("/rooms/:slug/join", s.handleAPIJoin)
	api.PUT("/rooms/:slug/notify", s.handleAPIRoomNotify)
	api.POST("/rooms/:slug/read", s.handleAPIRead)
	api.GET("/rooms/:slug/reads", s.handleAPIReads)
	api.GET("/me/status", s.handleAPIStatus)
	api.PUT("/me/status", s.handleAPISetStatus)
	api.GET("/rooms/:slug/messages", s.handleAPIMessages)
	api.POST("/rooms/:slug/messages", s.handleAPIPost)
	api.PATCH("/messages/:id", s.handleAPIEdit)
	api.DELETE("/messages/:id", s.handleAPIDelete)
	api.POST("/messages/:id/reactions", s.handleAPIReaction)
	api.GET("/messages/:id/replies", s.handleAPIReplies)
	api.GET("/dm/:username/messages", s.handleAPIDMMessages)
	api.POST("/dm/:username/messages", s.handleAPIDMPost)
	api.GET("/search", s.handleAPISearch)
	api.POST("/messages/:id/pin", s.handleAPIPin)
	api.POST("/messages/:id/save", s.handleAPISave)
	api.GET("/rooms/:slug/pins", s.handleAPIPins)
	api.GET("/saved", s.handleAPISaved)
	api.GET("/scheduled", s.handleAPIScheduled)
	api.PATCH("/scheduled/:id", s.handleAPIEditScheduled)
	api.DELETE("/scheduled/:id", s.handleAPICancelScheduled)
	api.POST("/messages/:id/remind", s.handleAPIRemind)
	api.GET("/admin/stats", s.handleAPIAdminStats)

	// Every admin route is in this group, behind its one guard.
	admin := auth.Group("/admin", s.requireAdmin)
	admin.GET("", s.handleAdminHome)
	admin.GET("/users", s.handleAdminUsers)
	admin.GET("/users/:username/deactivate", s.handleDeactivatePage)
	admin.POST("/users/:username/deactivate", s.handleDeactivate)
	admin.POST("/users/:username/demote", s.handleDemote)
	admin.POST("/users/:username/activate", s.handleActivate)
	admin.POST("/users/:username/admin", s.handleMakeAdmin)
	admin.POST("/users/:username/reset", s.handleAdminReset)
	admin.GET("/rooms", s.handleAdminRooms)
	admin.POST("/rooms/:slug/rename", s.handleAdminRenameRoom)
	admin.POST("/rooms/:slug/topic", s.handleAdminRoomTopic)
	admin.POST("/rooms/:slug/retention", s.handleAdminRoomRetention)
	admin.POST("/rooms/:slug/archive", s.handleAdminArchiveRoom)
	admin.POST("/rooms/:slug/unarchive", s.handleAdminUnarchiveRoom)
	admin.GET("/rooms/:slug/delete", s.handleAdminDeleteRoomPage)
	admin.POST("/rooms/:slug/delete", s.handleAdminDeleteRoom)
	admin.GET("/invites", s.handleAdminInvites)
	admin.POST("/invites", s.handleCreateInvite)
	admin.POST("/invites/:id/revoke", s.handleRevokeInvite)
	admin.GET("/jobs", s.handleAdminJobs)
	admin.POST("/jobs/:id/retry", s.handleRetryJob)
	admin.GET("/bots", s.handleBotsPage)
	admin.POST("/bots", s.handleCreateBot)
	admin.POST("/bots/:username/commands", s.handleAddBotCommand)
	admin.POST("/bots/:username/commands/:name/remove", s.handleRemoveBotCommand)
	admin.GET("/storage", s.handleStoragePage)
	admin.POST("/storage/:username", s.handleSetStorageLimit)
	admin.GET("/export", s.handleAdminExport)
	admin.GET("/hooks", s.handleAdminHooks)
	admin.POST("/hooks", s.handleCreateHook)
	admin.POST("/hooks/:id/revoke", s.handleRevokeHook)
	admin.GET("/emoji", s.handleAdminEmoji)
	admin.POST("/emoji", s.handleCreateEmoji) // its own limit: see isUpload
	admin.POST("/emoji/:name/delete", s.handleDeleteEmoji)
	admin.GET("/groups", s.handleAdminGroups)
	admin.POST("/groups", s.handleCreateGroup)
	admin.POST("/groups/:name/members", s.handleAddGroupMember)
	admin.POST("/groups/:name/members/remove", s.handleRemoveGroupMember)
}

// isUpload tells the file upload route, which reads its body as a stream
// under its own limit, from every other, whose bodies are small.
func isUpload(c echo.Context) bool {
	return c.Request().Method == http.MethodPost && (c.Path() == "/rooms/:slug/files" || c.Path() == "/admin/emoji" ||
		c.Path() == "/settings/profile" && isMultipart(c)) // a picture: its own limit
}

func isMultipart(c echo.Context) bool {
	return strings.HasPrefix(c.Request().Header.Get(echo.HeaderContentType), echo.MIMEMultipartForm)
}
