//go:build !kjdd_poison

package xds

const poisonTag = false
