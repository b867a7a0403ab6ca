package robustness

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Report is what a run checked and found.
type Report struct {
	Profile        Profile
	Seed           uint64
	Wall           time.Duration
	Operations     map[string]int
	Errors         map[string]int
	ErrorSamples   map[string]string
	Faults         []FaultRecord
	Linearizable   LinearizabilityReport
	Watch          WatchReport
	Resumes, Gone  int
	LaggingGone    int
	StaleReads     int
	Pages          int
	StaleViolation []string
}

// Check runs every checker on what the run recorded.
func (r *Run) Check() Report {
	ops := r.Traffic.History.Operations()
	rep := Report{Profile: r.Profile, Operations: Counts(ops), Faults: r.Injector.Records(), Pages: r.Traffic.Pages()}
	rep.Errors, rep.ErrorSamples = r.Traffic.Errors()
	var streams []Stream
	for _, w := range r.Watchers {
		s, gone := w.Streams()
		streams = append(streams, s...)
		rep.Gone += gone
	}
	for _, s := range streams {
		rep.Resumes += s.Resumes
	}
	streams = append(streams, r.Injector.LaggingStreams()...)
	rep.LaggingGone = r.Injector.gone
	var err error
	rep.Linearizable, err = CheckLinearizable(ops, r.Profile.CheckTimeout, r.Dir)
	if err != nil {
		rep.StaleViolation = append(rep.StaleViolation, "writing the visualization: "+err.Error())
	}
	rep.Watch = ValidateWatches(ops, streams)
	reads := r.Traffic.StaleReads()
	rep.StaleReads = len(reads)
	rep.StaleViolation = append(rep.StaleViolation, CheckStaleReads(ops, reads)...)
	return rep
}

// Failures are the reasons the run failed, none when it passed.
func (rep Report) Failures() []string {
	var out []string
	if rep.Linearizable.Result != "Ok" {
		out = append(out, fmt.Sprintf("linearizability: %s (visualization %s)", rep.Linearizable.Result, rep.Linearizable.Visualization))
	}
	for class, n := range rep.Errors {
		// 503/504 are the answers for an unavailable etcd or encryption provider; a 500 is a defect.
		if strings.HasPrefix(class, "500") {
			out = append(out, fmt.Sprintf("%d requests answered %s, e.g. %s", n, class, rep.ErrorSamples[class]))
		}
	}
	out = append(out, rep.Watch.Violations...)
	out = append(out, rep.StaleViolation...)
	for _, f := range rep.Faults {
		if f.Err != nil {
			out = append(out, fmt.Sprintf("fault %s at %s: %v", f.Name, f.At.Round(time.Second), f.Err))
		}
	}
	return out
}

// String is the report as printed and written to report.txt.
func (rep Report) String() string {
	var b strings.Builder
	total := 0
	for _, n := range rep.Operations {
		total += n
	}
	fmt.Fprintf(&b, "profile %s (seed %d): traffic %s, wall time %s\n", rep.Profile.Name, rep.Seed, rep.Profile.Duration, rep.Wall.Round(time.Second))
	fmt.Fprintf(&b, "operations: %d recorded (failed reads are not recorded)\n", total)
	for _, k := range slices.Sorted(maps.Keys(rep.Operations)) {
		fmt.Fprintf(&b, "  %-22s %d\n", k, rep.Operations[k])
	}
	fmt.Fprintf(&b, "lists with several pages: %d; cached reads (resourceVersion 0 / not older than) checked: %d\n", rep.Pages, rep.StaleReads)
	fmt.Fprintf(&b, "failed requests by class:\n")
	for _, k := range slices.Sorted(maps.Keys(rep.Errors)) {
		fmt.Fprintf(&b, "  %-32s %5d  e.g. %s\n", k, rep.Errors[k], clip(rep.ErrorSamples[k], 200))
	}
	fmt.Fprintf(&b, "faults injected: %d\n", len(rep.Faults))
	for _, f := range rep.Faults {
		status := f.Detail
		if f.Err != nil {
			status = "FAILED: " + f.Err.Error()
		}
		fmt.Fprintf(&b, "  %7s %-24s %6s  %s\n", f.At.Round(time.Second), f.Name, f.Took.Round(100*time.Millisecond), status)
	}
	l := rep.Linearizable
	fmt.Fprintf(&b, "porcupine: %s, %d operations in %d partitions, checked in %s\n", l.Result, l.Operations, l.Partitions, l.Duration.Round(time.Millisecond))
	w := rep.Watch
	fmt.Fprintf(&b, "watch: %d streams, %d events, %d bookmarks, %d rewrites by the server (content unchanged), %d resumes, %d ended by 410 (then listed again); watches from before a compaction answered 410: %d\n",
		w.Streams, w.Events, w.Bookmarks, w.Rewrites, rep.Resumes, rep.Gone, rep.LaggingGone)
	if f := rep.Failures(); len(f) > 0 {
		fmt.Fprintf(&b, "FAILED: %d problems\n", len(f))
		for _, v := range f[:min(len(f), 30)] {
			fmt.Fprintf(&b, "  %s\n", v)
		}
	} else {
		fmt.Fprintf(&b, "result: PASS\n")
	}
	return b.String()
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
