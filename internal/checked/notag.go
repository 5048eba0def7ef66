//go:build !kjdd_poison

package checked

const poisonTag = false
