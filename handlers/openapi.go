package handlers

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// openAPI is the API's OpenAPI 3.1 document; TestOpenAPIMatchesTheRouter
// holds it against the routes under /api/v1/.
//
//go:embed openapi.json
var openAPI []byte

// handleOpenAPI serves the document to anyone: it describes the API, it
// opens nothing.
func (s *Server) handleOpenAPI(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, openAPI)
}
