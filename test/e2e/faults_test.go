package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core/v1beta1"
	"github.com/garden-apiserver/garden-apiserver/pkg/pki"
	"github.com/garden-apiserver/garden-apiserver/test/procs"
)

// Fault tests: each test runs its own etcd and standalone garden-apiserver processes,
// except the priority-and-fairness test, which needs the host cluster's flow-control objects.

const faultsNS = "faults"

// TestEtcdOutageLosesNoAcknowledgedWrite: SIGKILL of the only etcd member under load.
func TestEtcdOutageLosesNoAcknowledgedWrite(t *testing.T) {
	// No --unsafe-no-fsync: an acknowledged write must be on disk.
	etcd := newEtcd(t, "faults-outage-etcd", 1, "http")
	startEtcd(t, nil, etcd...)
	s := newGarden(t, "faults-outage-garden", "--etcd-servers="+etcd[0].clientURL)
	s.start(t)
	w := newWriter(s.client(t, 5*time.Second), 0)

	ctx, cancel := context.WithTimeout(context.Background(), 26*time.Second)
	defer cancel()
	done := goRun(func() { w.run(ctx, 4, 5000) })
	waitFor(t, 20*time.Second, "a steady load of acknowledged writes", func() bool { return w.ackCount() >= 100 })

	killed := time.Now()
	etcd[0].proc.Kill()
	acksAtKill := w.ackCount()
	readyz := ""
	waitFor(t, 10*time.Second, "/readyz failing on the etcd check", func() bool {
		code, body := s.get("/readyz?verbose")
		readyz = body
		return code != http.StatusOK && strings.Contains(body, "[-]etcd")
	})
	notReadyAfter := time.Since(killed)
	// Keep etcd down until a create in flight has run into its 5 s timeout.
	waitFor(t, 30*time.Second, "a create answered 503/504 while etcd is down", func() bool { return w.timeouts() > 0 })
	acksInGap := w.ackCount() - acksAtKill

	restarted := time.Now()
	startEtcd(t, nil, etcd[0])
	etcdUp := time.Now()
	waitFor(t, 40*time.Second, "/readyz 200 after the etcd restart", func() bool {
		code, _ := s.get("/readyz")
		return code == http.StatusOK
	})
	recovery := time.Since(etcdUp)
	if s.proc.Exited() {
		t.Fatalf("the server exited: %v", s.proc.Err())
	}
	<-done
	if after := w.acksSince(restarted); after == 0 {
		t.Errorf("no write was acknowledged after etcd came back")
	}

	w.verify(t, s.client(t, 0))
	assertOnlyTimeouts(t, w)
	assertNoPanic(t, s.proc)
	t.Logf("etcd down %s; /readyz failed %s after the kill:\n%s", restarted.Sub(killed).Round(100*time.Millisecond),
		notReadyAfter.Round(100*time.Millisecond), readyzFailures(readyz))
	t.Logf("recovery: etcd healthy %s after its restart, then /readyz 200 %s later (same server process); acknowledged while etcd was down: %d",
		etcdUp.Sub(restarted).Round(100*time.Millisecond), recovery.Round(100*time.Millisecond), acksInGap)
	w.report(t)
}

// assertOnlyTimeouts: the writer's failed requests during an etcd gap were answered 503/504
// (pkg/registry/etcderrors.go maps etcd's gRPC errors for the request in flight when etcd died),
// at least once, or were an HTTP/2 stream reset (the library's timeout filter racing the
// handler's own timeout). Never a 500.
func assertOnlyTimeouts(t *testing.T, w *writer) {
	t.Helper()
	timeouts := 0
	for class, n := range w.failed {
		switch {
		case strings.HasPrefix(class, "503") || strings.HasPrefix(class, "504"):
			timeouts += n
		case class == "transport: stream error":
		default:
			t.Errorf("error during the etcd gap is neither 503/504 nor an etcd storage error: %s: %s", class, w.samples[class])
		}
	}
	if timeouts == 0 {
		t.Errorf("no create got a 503/504 while etcd was down (requests ask for a 5 s timeout): %v", w.failed)
	}
}

// TestEtcdMemberLossIsInvisible: a 3-member cluster loses a follower, then (after it rejoined)
// the leader; clients that retry (5 times, 100 ms apart) must see no error.
func TestEtcdMemberLossIsInvisible(t *testing.T) {
	// A SIGKILL keeps the page cache, so fsync adds nothing here but election-provoking latency.
	etcd := newEtcd(t, "faults-cluster-etcd", 3, "http", "--unsafe-no-fsync")
	startEtcd(t, nil, etcd...)
	var urls []string
	for _, m := range etcd {
		urls = append(urls, m.clientURL)
	}
	s := newGarden(t, "faults-cluster-garden", "--etcd-servers="+strings.Join(urls, ","))
	s.start(t)
	w := newWriter(s.client(t, 10*time.Second), 5)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	done := goRun(func() { w.run(ctx, 4, 10000) })
	var notReady atomic.Int64
	probes := goRun(func() {
		for ctx.Err() == nil {
			if code, _ := s.get("/readyz"); code != http.StatusOK {
				notReady.Add(1)
			}
			time.Sleep(250 * time.Millisecond)
		}
	})
	waitFor(t, 15*time.Second, "first acknowledged writes", func() bool { return w.ackCount() >= 40 })

	for _, role := range []string{"follower", "leader"} {
		leader := etcdLeader(t, etcd)
		victim := leader
		if role == "follower" {
			victim = etcd[(indexOf(etcd, leader)+1)%len(etcd)]
		}
		killed := time.Now()
		victim.proc.Kill()
		waitFor(t, 40*time.Second, "100 writes acknowledged after the "+role+" was killed",
			func() bool { return w.acksSince(killed) >= 100 })
		stall := w.longestGap(killed, time.Now())
		t.Logf("killed the %s %s: 100 writes acknowledged %s after, longest time without an acknowledgement %s",
			role, victim.name, time.Since(killed).Round(100*time.Millisecond), stall.Round(100*time.Millisecond))
		// Proposals in flight to a dead leader end with etcd's request timeout (5 s + 2 elections),
		// 7-8 s seen here; the margin is for a loaded CI machine.
		if stall > 14*time.Second {
			t.Errorf("writes stalled after the %s was killed: longest gap %s", role, stall)
		}
		startEtcd(t, nil, victim)
	}
	cancel()
	<-done
	<-probes
	w.verify(t, s.client(t, 0))
	if len(w.failed) > 0 {
		t.Errorf("client-visible errors after retries: %v (samples %v)", w.failed, w.samples)
	}
	assertNoPanic(t, s.proc)
	t.Logf("/readyz non-200 answers during the run (probe every 250 ms): %d", notReady.Load())
	w.report(t)
}

// TestServerCrashLosesNoAcknowledgedWrite: SIGKILL of the server under load, on an external etcd
// and on the embedded one; a watch resumes from its resourceVersion or gets a clean 410.
func TestServerCrashLosesNoAcknowledgedWrite(t *testing.T) {
	t.Run("external-etcd", func(t *testing.T) {
		etcd := newEtcd(t, "faults-crash-etcd", 1, "http")
		startEtcd(t, nil, etcd...)
		serverCrash(t, newGarden(t, "faults-crash-garden", "--etcd-servers="+etcd[0].clientURL))
	})
	t.Run("embedded-etcd", func(t *testing.T) {
		serverCrash(t, newGarden(t, "faults-crash-embedded"))
	})
}

func serverCrash(t *testing.T, s *gardenServer) {
	s.start(t)
	c := s.client(t, 0) // watches must not time out
	list, err := c.CoreV1beta1().InternalSecrets(faultsNS).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wt := &watcher{added: map[string]bool{}, lastRV: list.ResourceVersion}
	w1, err := c.CoreV1beta1().InternalSecrets(faultsNS).Watch(context.Background(), metav1.ListOptions{ResourceVersion: list.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	firstEnd := make(chan error, 1)
	go func() { firstEnd <- wt.follow(w1) }()

	w := newWriter(s.client(t, 10*time.Second), 0)
	ctx, cancel := context.WithTimeout(context.Background(), 18*time.Second)
	defer cancel()
	done := goRun(func() { w.run(ctx, 4, 5000) })
	waitFor(t, 20*time.Second, "a steady load of acknowledged writes", func() bool { return w.ackCount() >= 100 })

	s.proc.Kill()
	var firstErr error
	select {
	case firstErr = <-firstEnd:
	case <-time.After(10 * time.Second):
		t.Fatal("the watch did not end after the server was killed")
	}
	resumeRV := wt.rv()
	restart := s.start(t)

	outcome := "resumed"
	w2, err := c.CoreV1beta1().InternalSecrets(faultsNS).Watch(context.Background(), metav1.ListOptions{ResourceVersion: resumeRV})
	secondEnd := make(chan error, 1)
	switch {
	case err == nil:
		defer w2.Stop()
		go func() { secondEnd <- wt.follow(w2) }()
	case apierrors.IsResourceExpired(err) || apierrors.IsGone(err):
		outcome = "410 Gone"
	default:
		t.Fatalf("re-opening the watch at resourceVersion %s: %v, want success or 410", resumeRV, err)
	}
	<-done
	w.verify(t, c)

	if outcome == "resumed" {
		outcome = followResumedWatch(t, w, wt, secondEnd, resumeRV)
	}
	assertNoPanic(t, s.proc)
	t.Logf("server restarted and ready in %s; first watch ended with %v; re-opened watch at resourceVersion %s: %s (events seen in total: %d)",
		restart.Round(100*time.Millisecond), firstErr, resumeRV, outcome, wt.count())
	w.report(t)
}

// followResumedWatch waits until the resumed watch saw every acknowledged create, unless it ends
// with a clean 410, and checks it did not replay resourceVersion resumeRV or older. It returns
// the outcome for the log.
func followResumedWatch(t *testing.T, w *writer, wt *watcher, end <-chan error, resumeRV string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for missing := w.unseen(wt); missing > 0; missing = w.unseen(wt) {
		select {
		case err := <-end:
			if !apierrors.IsResourceExpired(err) && !apierrors.IsGone(err) {
				t.Fatalf("the resumed watch ended with %v, want events or 410", err)
			}
			return "410 Gone (error event)"
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the resumed watch missed %d acknowledged creates", missing)
		}
	}
	wt.mu.Lock()
	defer wt.mu.Unlock()
	if wt.firstAfterResume != "" && rvAtMost(wt.firstAfterResume, resumeRV) {
		t.Errorf("the resumed watch replayed resourceVersion %s, not newer than %s", wt.firstAfterResume, resumeRV)
	}
	return "resumed"
}

// TestEtcdOverTLSWithClientCertificates: an etcd that serves only TLS and requires client certificates.
func TestEtcdOverTLSWithClientCertificates(t *testing.T) {
	dir := t.TempDir()
	ca, err := pki.NewCA("faults-etcd-ca", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(dir, "ca.crt")
	if err := pki.WriteFile(caFile, pki.EncodeCert(ca.Cert)); err != nil {
		t.Fatal(err)
	}
	file := func(name string) string { return filepath.Join(dir, name) }
	for name, leaf := range map[string]pki.Leaf{
		"server": {CommonName: "etcd", DNSNames: []string{"localhost"}, IPs: []net.IP{net.ParseIP("127.0.0.1")}, Server: true},
		"client": {CommonName: "garden-apiserver"},
	} {
		leaf.NotAfter = time.Now().Add(time.Hour)
		if err := issueTo(ca, leaf, file(name+".crt"), file(name+".key")); err != nil {
			t.Fatal(err)
		}
	}
	etcd := newEtcd(t, "faults-tls-etcd", 1, "https", "--unsafe-no-fsync",
		"--cert-file="+file("server.crt"), "--key-file="+file("server.key"),
		"--client-cert-auth", "--trusted-ca-file="+caFile)
	startEtcd(t, httpsClient(t, caFile, file("client.crt"), file("client.key")), etcd...)
	url := etcd[0].clientURL

	// Without a client certificate etcd refuses the connection.
	if resp, err := httpsClient(t, caFile, "", "").Get(url + "/health"); err == nil {
		resp.Body.Close()
		t.Fatalf("etcd answered %s without a client certificate", resp.Status)
	} else {
		t.Logf("etcd without a client certificate: %v", err)
	}

	s := newGarden(t, "faults-tls-garden", "--etcd-servers="+url,
		"--etcd-cafile="+caFile, "--etcd-certfile="+file("client.crt"), "--etcd-keyfile="+file("client.key"))
	s.start(t)
	c := s.client(t, 10*time.Second)
	want := []byte("over TLS " + randomString(8))
	obj := &v1beta1.InternalSecret{ObjectMeta: metav1.ObjectMeta{Name: "tls", Namespace: faultsNS}, Data: map[string][]byte{"v": want}}
	if _, err := c.CoreV1beta1().InternalSecrets(faultsNS).Create(context.Background(), obj, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := c.CoreV1beta1().InternalSecrets(faultsNS).Get(context.Background(), "tls", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Data["v"], want) {
		t.Errorf("read back %q, want %q", got.Data["v"], want)
	}

	// The same server without the client certificate never becomes ready.
	assertNotReadyWithoutEtcdCert(t, url, caFile, etcd[0].proc.LogPath)
}

// assertNotReadyWithoutEtcdCert starts a server with etcd's CA but no client certificate: it never
// becomes ready, and both logs show the refused handshake.
func assertNotReadyWithoutEtcdCert(t *testing.T, url, caFile, etcdLog string) {
	t.Helper()
	bad := newGarden(t, "faults-tls-garden-nocert", "--etcd-servers="+url, "--etcd-cafile="+caFile)
	p, err := env.start(bad.name, env.bins.gardenAPI, bad.args...)
	if err != nil {
		t.Fatal(err)
	}
	bad.proc = p
	var code int
	var body string
	started := time.Now()
	for end := started.Add(30 * time.Second); time.Now().Before(end) && !p.Exited(); time.Sleep(500 * time.Millisecond) {
		if code, body = bad.get("/readyz?verbose"); code == http.StatusOK {
			t.Fatalf("the server without an etcd client certificate became ready:\n%s", body)
		}
	}
	switch {
	case p.Exited():
		t.Logf("the server without an etcd client certificate exited after %s (%v): %s", time.Since(started).Round(time.Second), p.Err(), clip(strings.TrimSpace(procs.Tail(p.LogPath, 2)), 300))
	case code != 0 && !strings.Contains(body, "[-]etcd"):
		t.Errorf("/readyz of the server without an etcd client certificate answers %d without naming etcd:\n%s", code, body)
	default:
		t.Logf("the server without an etcd client certificate stayed unready for 30 s (/readyz %d):\n%s", code, readyzFailures(body))
	}
	if !strings.Contains(readFile(t, p.LogPath), "tls: certificate required") {
		t.Errorf("the server's log does not show etcd refusing it for the missing certificate: %s", p.LogPath)
	}
	if n := strings.Count(readFile(t, etcdLog), "client didn't provide a certificate"); n == 0 {
		t.Errorf("etcd logged no rejected handshake without a client certificate")
	} else {
		t.Logf("etcd rejected %d handshakes without a client certificate", n)
	}
}

// TestPriorityAndFairnessIsolatesAFloodingUser: an extra delegated replica; one user floods it
// with LISTs, another one's GETs still succeed. The replica keeps the default in-flight totals
// (400+200); a small priority level for the test users does the limiting, as an operator would
// configure it.
func TestPriorityAndFairnessIsolatesAFloodingUser(t *testing.T) {
	t.Logf("FlowSchemas of the host cluster (precedence, priority level, distinguisher):\n%s", mustKubectl(t, "admin", "get", "flowschemas", "--no-headers",
		"-o", "custom-columns=NAME:.metadata.name,PRECEDENCE:.spec.matchingPrecedence,LEVEL:.spec.priorityLevelConfiguration.name,BY:.spec.distinguisherMethod.type"))
	// The defaults do not show isolation cheaply (see docs/reliability.md): system:masters is exempt,
	// and global-default queues 6 x 50 requests per flow and borrows seats. A dedicated level with
	// a few seats (600 x 1 share / 246 shares = 3), short queues and no borrowing, as an operator
	// would configure it.
	mustKubectlStdin(t, "admin", apfObjects, "apply", "-f", "-")
	t.Cleanup(func() {
		_, _ = kubectlStdin("admin", apfObjects, "delete", "--ignore-not-found", "--wait=false", "-f", "-")
	})
	mustKubectlStdin(t, "admin", `{"apiVersion":"core.gardener.cloud/v1beta1","kind":"InternalSecret",
		"metadata":{"name":"target","namespace":"faults-apf"},"data":{"v":"dGFyZ2V0"}}`, "apply", "-f", "-")
	schemaUID := strings.TrimSpace(mustKubectl(t, "admin", "get", "flowschema", "faults-apf", "-o", "jsonpath={.metadata.uid}"))

	r := startExtraReplica(t, "faults-apf-replica")

	// Straight to the replica as the front proxy (the aggregator would add its own limits).
	client := httpsClient(t, env.servingCAFile, env.path("front-proxy-client.crt"), env.path("front-proxy-client.key"))
	base := fmt.Sprintf("https://%s/apis/core.gardener.cloud/v1beta1/namespaces/faults-apf/internalsecrets", r.addr())
	as := func(user, url string) (*http.Response, error) {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("X-Remote-User", user)
		req.Header.Set("X-Remote-Group", "faults-apf-users")
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return resp, err
	}
	// The replica's flow-control informer has the new FlowSchema once it classifies requests by it.
	waitFor(t, 20*time.Second, "requests classified by FlowSchema faults-apf", func() bool {
		resp, err := as("victim", base+"/target")
		return err == nil && resp.StatusCode == http.StatusOK && resp.Header.Get("X-Kubernetes-PF-FlowSchema-UID") == schemaUID
	})

	flood, victim, noRetryAfter, slowest := floodAndProbe(t, func(user string) (*http.Response, error) {
		if user == "victim" {
			return as(user, base+"/target")
		}
		return as(user, base)
	})
	total := 0
	for _, n := range victim {
		total += n
	}
	t.Logf("flooder (16 clients, 10 s): %v; 429 without Retry-After: %d", flood, noRetryAfter)
	t.Logf("victim (one GET every 100 ms): %v, slowest %s", victim, slowest.Round(time.Millisecond))
	if flood["429"] == 0 {
		t.Errorf("the flooder got no 429: %v", flood)
	}
	if noRetryAfter > 0 {
		t.Errorf("%d 429 answers without Retry-After", noRetryAfter)
	}
	if total < 20 || victim["200"] < total*95/100 {
		t.Errorf("the victim's GETs: %v, want at least 95%% of at least 20 to succeed", victim)
	}
}

// startExtraReplica starts one more replica with the arguments of the first, on its own port
// and state directory.
func startExtraReplica(t *testing.T, name string) *replica {
	t.Helper()
	port, err := procs.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	r := &replica{name: name, port: port, args: []string{
		fmt.Sprintf("--secure-port=%d", port), "--state-dir=" + t.TempDir()}}
	for _, a := range env.replicas[0].args {
		if !strings.HasPrefix(a, "--secure-port=") && !strings.HasPrefix(a, "--state-dir=") {
			r.args = append(r.args, a)
		}
	}
	if err := env.startReplica(r); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.proc.Stop)
	return r
}

// floodAndProbe has 16 "flooder" clients send up to 400 requests each for 10 s while, once the
// flood got its first 429, a "victim" sends one request every 100 ms. It returns the answers of
// each by status code (or error class), the 429s without Retry-After, and the victim's slowest.
func floodAndProbe(t *testing.T, get func(user string) (*http.Response, error)) (flood, victim map[string]int, noRetryAfter int, slowest time.Duration) {
	t.Helper()
	var mu sync.Mutex
	flood, victim = map[string]int{}, map[string]int{}
	record := func(m map[string]int, resp *http.Response, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			m[errClass(err)]++
			return
		}
		m[strconv.Itoa(resp.StatusCode)]++
		if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
			noRetryAfter++
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < 400 && ctx.Err() == nil; n++ {
				resp, err := get("flooder")
				record(flood, resp, err)
			}
		}()
	}
	// The victim starts once the flood saturates its flow's queues.
	waitFor(t, 5*time.Second, "the flooder's first 429", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return flood["429"] > 0
	})
	for ctx.Err() == nil {
		start := time.Now()
		resp, err := get("victim")
		slowest = max(slowest, time.Since(start))
		record(victim, resp, err)
		time.Sleep(100 * time.Millisecond) // the victim's pace: one GET every 100 ms
	}
	wg.Wait()
	return flood, victim, noRetryAfter, slowest
}

// apfObjects: the test users may read InternalSecrets in faults-apf, and their requests get a
// priority level of a few seats, four 2-deep queues per flow (hand size) and no borrowing.
const apfObjects = `
apiVersion: v1
kind: Namespace
metadata: {name: faults-apf}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: faults-apf-reader, namespace: faults-apf}
rules:
- {apiGroups: [core.gardener.cloud], resources: [internalsecrets], verbs: [get, list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: faults-apf-reader, namespace: faults-apf}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: faults-apf-reader}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: faults-apf-users}
---
apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: PriorityLevelConfiguration
metadata: {name: faults-apf}
spec:
  type: Limited
  limited:
    nominalConcurrencyShares: 1
    lendablePercent: 0
    borrowingLimitPercent: 0
    limitResponse:
      type: Queue
      queuing: {queues: 64, handSize: 4, queueLengthLimit: 2}
---
apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: FlowSchema
metadata: {name: faults-apf}
spec:
  matchingPrecedence: 500
  priorityLevelConfiguration: {name: faults-apf}
  distinguisherMethod: {type: ByUser}
  rules:
  - subjects:
    - kind: Group
      group: {name: faults-apf-users}
    resourceRules:
    - {verbs: ["*"], apiGroups: ["*"], resources: ["*"], namespaces: ["*"]}
`
