package httpapi

import "github.com/gin-gonic/gin"

// SperringService is what the sperring API needs from the application.
type SperringService interface{}

// mountSperring registers the sperring API's routes.
func (s *Server) mountSperring(*gin.Engine) {}
