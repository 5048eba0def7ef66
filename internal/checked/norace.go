//go:build !race

package checked

const raceEnabled = false
