// Package telemetry is what kjdd reports about itself to operators: metrics
// served on /metrics (and, with the tracing issue, spans).
package telemetry

import (
	"sort"

	"github.com/prometheus/client_golang/prometheus"

	"kjdd/xds/soap"
)

// Caches reports the use of kjdd's in-process caches on /metrics: hits,
// misses, entries and bytes per cache, read when scraped. Labels name the
// cache only, never what it holds.
type Caches map[string]func() soap.CacheStats

var (
	cacheHits    = prometheus.NewDesc("kjdd_cache_hits_total", "Lookups answered by an in-process cache.", []string{"cache"}, nil)
	cacheMisses  = prometheus.NewDesc("kjdd_cache_misses_total", "Lookups an in-process cache could not answer.", []string{"cache"}, nil)
	cacheEntries = prometheus.NewDesc("kjdd_cache_entries", "Entries held by an in-process cache.", []string{"cache"}, nil)
	cacheBytes   = prometheus.NewDesc("kjdd_cache_bytes", "Bytes held by an in-process cache, as it counts them.", []string{"cache"}, nil)
)

// Describe implements prometheus.Collector.
func (c Caches) Describe(ch chan<- *prometheus.Desc) {
	ch <- cacheHits
	ch <- cacheMisses
	ch <- cacheEntries
	ch <- cacheBytes
}

// Collect implements prometheus.Collector.
func (c Caches) Collect(ch chan<- prometheus.Metric) {
	names := make([]string, 0, len(c))
	for name := range c {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		s := c[name]()
		ch <- prometheus.MustNewConstMetric(cacheHits, prometheus.CounterValue, float64(s.Hits), name)
		ch <- prometheus.MustNewConstMetric(cacheMisses, prometheus.CounterValue, float64(s.Misses), name)
		ch <- prometheus.MustNewConstMetric(cacheEntries, prometheus.GaugeValue, float64(s.Entries), name)
		ch <- prometheus.MustNewConstMetric(cacheBytes, prometheus.GaugeValue, float64(s.Bytes), name)
	}
}

var _ prometheus.Collector = Caches(nil)
