package httpapi

import "kjdd/adapter/registry"

// Interface guard: the registry serves every use case the handlers call.
var _ Registry = (*registry.Registry)(nil)
