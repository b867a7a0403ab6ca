package main

import (
	"fmt"
	"slices"
	"time"
)

// protoVerdicts adds the verdicts of the protobuf targets: lists from the watch cache as a client
// sees them (decoded, client-go's gzip default; the other list rows are in the results table), and
// get and create at the largest concurrency.
func (o *compareOut) protoVerdicts(conc []int) {
	for _, gz := range []struct{ label, note string }{
		{"list %d (resourceVersion=0, decoded)", "decoded by typed clients, gzip"},
	} {
		op := fmt.Sprintf(gz.label, *listSize)
		pb := o.find(op, tDirectPB, 1)
		o.verdicts = append(o.verdicts, fmt.Sprintf("| protobuf list of %d from the watch cache p99 < 15 ms (direct, %s) | p99 %s ms, p50 %s ms (JSON: p99 %s ms) | %s |",
			*listSize, gz.note, ms(pb.p(0.99)), ms(pb.p(0.5)), ms(o.find(op, tDirect, 1).p(0.99)), verdict(pb.p(0.99) < 15*time.Millisecond)))
		for _, c := range []struct {
			what, target string
			min          float64
		}{
			{"our JSON list", tDirect, 2.0},
			{"kube-apiserver's CRD list (JSON)", tCRD, 1.5},
			{"kube-apiserver's protobuf Secret list", tSecretsPB, 1.0},
		} {
			o.verdicts = append(o.verdicts, o.rateVerdict(fmt.Sprintf("protobuf list of %d (%s) throughput >= %.1fx %s", *listSize, gz.note, c.min, c.what),
				op, 1, tDirectPB, c.target, c.min))
		}
	}
	n := slices.Max(conc)
	for _, op := range []string{"get", "create"} {
		o.verdicts = append(o.verdicts, o.rateVerdict(fmt.Sprintf("protobuf %s at %d clients >= 1.1x kube-apiserver's Secrets with protobuf", op, n),
			op, n, tDirectPB, tSecretsPB, 1.1))
	}
}

// rateVerdict compares the throughput of two targets in one row.
func (o *compareOut) rateVerdict(what, op string, n int, ours, theirs string, min float64) string {
	a, b := o.findRow(op, ours, n), o.findRow(op, theirs, n)
	if a == nil || b == nil {
		return fmt.Sprintf("| %s | not measured in this run | - |", what)
	}
	x := ratio(a.rate(), b.rate())
	how := ""
	if x < min {
		how = fmt.Sprintf(", %.0f%% short", (1-x/min)*100)
	}
	return fmt.Sprintf("| %s | %.2fx (%.0f/s vs %.0f/s)%s | %s |",
		what, x, a.rate(), b.rate(), how, verdict(x >= min))
}

// memProtoVerdicts compares the formats at the largest count: stored bytes and start to watch
// cache initialized.
func (o *compareOut) memProtoVerdicts() {
	var pb, js *memRow
	for i := range o.memRows {
		switch m := &o.memRows[i]; m.format {
		case "protobuf":
			pb = m
		case "JSON":
			js = m
		}
	}
	if pb == nil || js == nil {
		return
	}
	o.verdicts = append(o.verdicts, fmt.Sprintf("| stored bytes per 1 KiB InternalSecret in etcd, JSON vs protobuf (read raw from etcd; report only) | JSON %d B, protobuf %d B (%.2fx) | reported (no threshold) |",
		js.storedBytes, pb.storedBytes, ratio(float64(pb.storedBytes), float64(js.storedBytes))))
	x := ratio(float64(js.cacheReady), float64(pb.cacheReady))
	o.verdicts = append(o.verdicts, fmt.Sprintf("| start to watch cache initialized with %d stored objects: protobuf storage >= 2x faster than JSON | %.2fx (%s with protobuf vs %s with JSON; initialization alone %s vs %s) | %s |",
		pb.objects, x, pb.cacheReady.Round(10*time.Millisecond), js.cacheReady.Round(10*time.Millisecond),
		pb.cacheInit.Round(10*time.Millisecond), js.cacheInit.Round(10*time.Millisecond), verdict(x >= 2)))
}
