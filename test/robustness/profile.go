package robustness

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"
)

// Profile is how long and how hard a run is.
type Profile struct {
	Name       string
	Duration   time.Duration // of the traffic
	Clients    int
	Namespaces int
	Keys       int
	Pause      time.Duration // between a client's requests
	FaultGap   time.Duration // quiet time between faults
	Faults     []string      // in order, repeated until the traffic ends
	Hold       int
	// CheckTimeout bounds porcupine; an unfinished check fails the run.
	CheckTimeout time.Duration
}

// Short is the CI profile: about two minutes of traffic with four fault types; which four
// changes from run to run (the seed is printed; ROBUSTNESS_SEED repeats a run's choice).
func Short(seed uint64) Profile {
	faults := append([]string(nil), AllFaults...)
	rand.New(rand.NewPCG(seed, seed)).Shuffle(len(faults), func(i, j int) { faults[i], faults[j] = faults[j], faults[i] })
	return Profile{Name: "short", Duration: 100 * time.Second, Clients: 6, Namespaces: 2, Keys: 6, Pause: 10 * time.Millisecond,
		FaultGap: 5 * time.Second, Faults: faults[:4], Hold: 40, CheckTimeout: 3 * time.Minute}
}

// Long is the release profile: 30 minutes, every fault type, repeatedly.
func Long() Profile {
	return Profile{Name: "long", Duration: 30 * time.Minute, Clients: 6, Namespaces: 4, Keys: 6, Pause: 25 * time.Millisecond,
		FaultGap: 15 * time.Second, Faults: AllFaults, Hold: 60, CheckTimeout: 15 * time.Minute}
}

// ProfileFromEnv reads ROBUSTNESS_PROFILE (short, long), ROBUSTNESS_SEED, ROBUSTNESS_DURATION
// and ROBUSTNESS_FAULTS (comma-separated fault types).
func ProfileFromEnv() (Profile, uint64, error) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("ROBUSTNESS_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return Profile{}, 0, fmt.Errorf("ROBUSTNESS_SEED: %w", err)
		}
		seed = v
	}
	var p Profile
	switch name := os.Getenv("ROBUSTNESS_PROFILE"); name {
	case "", "short":
		p = Short(seed)
	case "long":
		p = Long()
	default:
		return p, seed, fmt.Errorf("ROBUSTNESS_PROFILE=%q: want short or long", name)
	}
	if d := os.Getenv("ROBUSTNESS_DURATION"); d != "" {
		v, err := time.ParseDuration(d)
		if err != nil {
			return p, seed, fmt.Errorf("ROBUSTNESS_DURATION: %w", err)
		}
		p.Duration = v
	}
	if f := os.Getenv("ROBUSTNESS_FAULTS"); f != "" {
		p.Faults = strings.Split(f, ",")
	}
	return p, seed, nil
}
