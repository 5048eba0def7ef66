// Package health tests the operator's view of the built kjdd binary:
// /readyz against real dependencies (a redis-server the test starts, stops
// and restarts), naming what fails and nothing more.
package health
