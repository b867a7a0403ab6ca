package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

const (
	tDirect  = "InternalSecret, direct"
	tSecrets = "core/v1 Secret, kube-apiserver"
	tCRD     = "CRD object, kube-apiserver"
	tAgg     = "InternalSecret, via aggregator"
)

func (o *compareOut) find(op, target string, n int) *result {
	if r := o.findRow(op, target, n); r != nil {
		return &r.result
	}
	return nil
}

func (o *compareOut) findRow(op, target string, n int) *row {
	for i := range o.rows {
		if o.rows[i].op == op && o.rows[i].target == target && o.rows[i].clients == n {
			return &o.rows[i]
		}
	}
	return nil
}

// cpuPerOp is the servers' CPU time per request in ms (etcd's not included).
func (r *row) cpuPerOp() string {
	if r == nil || len(r.lat) == 0 {
		return "-"
	}
	return ms(r.cpu / time.Duration(len(r.lat)))
}

// cell is "ops/s · p99 ms · server CPU ms/op", with the error count when there were errors.
func (r *row) cell() string {
	if r == nil {
		return "-"
	}
	c := fmt.Sprintf("%.0f · %s · %s", r.rate(), ms(r.p(0.99)), r.cpuPerOp())
	if r.errors > 0 {
		c += fmt.Sprintf(" (%d errors)", r.errors)
	}
	return c
}

func (r *result) rate() float64 {
	if r == nil || r.elapsed <= 0 {
		return 0
	}
	return float64(len(r.lat)) / r.elapsed.Seconds()
}

func (r *result) p(q float64) time.Duration {
	if r == nil {
		return 0
	}
	l := slices.Clone(r.lat)
	slices.Sort(l)
	return pct(l, q)
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func verdict(ok bool) string {
	if ok {
		return "**met**"
	}
	return "**not met**"
}

// compareVerdicts adds the rows of the performance targets this run measures.
func (o *compareOut) compareVerdicts(conc []int) {
	n := slices.Max(conc)
	for _, op := range []string{"create", "get"} {
		d := o.find(op, tDirect, n)
		for _, c := range []struct {
			target string
			min    float64
		}{{tSecrets, 1.0}, {tCRD, 1.2}} {
			theirs := o.find(op, c.target, n)
			x := ratio(d.rate(), theirs.rate())
			how := ""
			if x < c.min {
				how = fmt.Sprintf(", %.1f%% short", (1-x/c.min)*100)
			}
			o.verdicts = append(o.verdicts, fmt.Sprintf("| InternalSecret %s at %d clients >= %.1fx %s | %.2fx (%.0f/s vs %.0f/s)%s | %s |",
				op, n, c.min, c.target, x, d.rate(), theirs.rate(), how, verdict(x >= c.min)))
		}
	}
	for _, c := range conc {
		d, a := o.find("get", tDirect, c), o.find("get", tAgg, c)
		over := ratio(float64(a.p(0.5)), float64(d.p(0.5))) - 1
		o.verdicts = append(o.verdicts, fmt.Sprintf("| aggregation overhead on get p50 < 25%% (clients: %d) | %+.0f%% (p50 %s ms via the aggregator vs %s ms direct) | %s |",
			c, over*100, ms(a.p(0.5)), ms(d.p(0.5)), verdict(over < 0.25)))
	}
	l := o.find(fmt.Sprintf("list %d (resourceVersion=0)", *listSize), tDirect, 1)
	ln := o.find(fmt.Sprintf("list %d (resourceVersion=0, no gzip)", *listSize), tDirect, 1)
	o.verdicts = append(o.verdicts, fmt.Sprintf("| list of %d from the watch cache p99 < 20 ms (side-by-side run, direct, body not decoded) | p99 %s ms with gzip (client-go's default); %s ms without | %s (verdict on the gzip row) |",
		*listSize, ms(l.p(0.99)), ms(ln.p(0.99)), verdict(l.p(0.99) < 20*time.Millisecond)))
}

func (o *compareOut) memVerdict() {
	var big *memRow
	for i := range o.memRows {
		if o.memRows[i].objects >= 100000 && o.memRows[i].format == "protobuf" { // the default storage
			big = &o.memRows[i]
		}
	}
	if big == nil {
		o.verdicts = append(o.verdicts, "| RSS at 100,000 x 1 KiB InternalSecrets < 600 MiB | not measured in this run (LOAD_OBJECTS below 100000) | - |")
		return
	}
	mib := float64(big.rssKiB) / 1024
	how := ""
	if mib >= 600 {
		how = fmt.Sprintf(", %.0f%% over", (mib/600-1)*100)
	}
	o.verdicts = append(o.verdicts, fmt.Sprintf("| RSS at 100,000 x 1 KiB InternalSecrets < 600 MiB (protobuf storage) | %.0f MiB at %d objects%s | %s |",
		mib, big.objects, how, verdict(mib < 600)))
}

func (o *compareOut) print() {
	// One row per operation and concurrency, one column per target: ratios read across a row.
	var targets []string
	for _, r := range o.rows {
		if !slices.Contains(targets, r.target) {
			targets = append(targets, r.target)
		}
	}
	fmt.Printf("| operation | clients | %s |\n", strings.Join(targets, " | "))
	fmt.Printf("|---|---:|%s\n", strings.Repeat("---:|", len(targets)))
	seen := map[string]bool{}
	for _, r := range o.rows {
		k := fmt.Sprintf("%s/%d", r.op, r.clients)
		if seen[k] {
			continue
		}
		seen[k] = true
		cells := make([]string, len(targets))
		for i, t := range targets {
			cells[i] = o.findRow(r.op, t, r.clients).cell()
		}
		fmt.Printf("| %s | %d | %s |\n", r.op, r.clients, strings.Join(cells, " | "))
	}
	if len(o.memRows) > 0 {
		o.memVerdict()
		o.memProtoVerdicts()
		fmt.Println()
		fmt.Println("Memory and cold start of garden-apiserver alone (etcd is a separate process here), watch cache on, no encryption:")
		fmt.Println()
		fmt.Println("| storage | bytes per object in etcd | stored 1 KiB InternalSecrets | new ones written into etcd in | start to /readyz 200 | start to watch cache initialized (initialization alone) | RSS once ready | Go heap in use |")
		fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|")
		for _, m := range o.memRows {
			fmt.Printf("| %s | %d | %d | %s | %s | %s (%s) | %.0f MiB | %.0f MiB |\n", m.format, m.storedBytes, m.objects, m.load.Round(100*time.Millisecond),
				m.readyz.Round(10*time.Millisecond), m.cacheReady.Round(10*time.Millisecond), m.cacheInit.Round(10*time.Millisecond),
				float64(m.rssKiB)/1024, float64(m.heapBytes)/(1<<20))
		}
	}
}
