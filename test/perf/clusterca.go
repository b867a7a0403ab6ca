package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	authv1alpha1 "github.com/garden-apiserver/garden-apiserver/pkg/apis/authentication/v1alpha1"
	"github.com/garden-apiserver/garden-apiserver/pkg/generated/clientset/versioned"
	"github.com/garden-apiserver/garden-apiserver/test/procs"
)

var (
	clusterCAMemory  = flag.Int("cluster-ca-memory", 0, "only measure the RSS of a server with --shoot-cluster-ca-sources=configmap,secret before and after this many 4 KiB ConfigMaps exist in the cluster, and exit")
	clusterCABefore  = flag.String("cluster-ca-before-bin", "", "with -cluster-ca-memory: also measure this earlier build side by side (started without --shoot-cluster-ca-sources)")
	clusterCAIssues  = 50
	clusterCALimit   = int64(100 << 10) // KiB above the baseline
	clusterCAPayload = 4 << 10
)

type caMemTarget struct {
	label  string
	ns     string
	proc   *proc
	client versioned.Interface
	before int64 // RSS in KiB
	after  int64
}

// runClusterCAMemory starts etcd, kube-apiserver and the server(s) in delegated mode, each with a
// shoot whose cluster CA is a ConfigMap, measures their RSS after issuing kubeconfigs, creates
// -cluster-ca-memory ConfigMaps of 4 KiB through kube-apiserver, issues again and measures again.
func runClusterCAMemory(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "garden-bench-ca-")
	if err != nil {
		return err
	}
	e := &env{dir: dir, procs: &procs.Group{Dir: dir}}
	defer e.cleanUpOnExit()()
	step("certificates, etcd, kube-apiserver")
	if err := e.certificates(); err != nil {
		return err
	}
	if err := e.startEtcd(filepath.Join(*toolsDir, "etcd")); err != nil {
		return e.fail(err)
	}
	if err := e.startKubeAPIServer(filepath.Join(*toolsDir, "kube-apiserver")); err != nil {
		return e.fail(err)
	}
	kcfg, err := restConfig(e.path("admin.kubeconfig"))
	if err != nil {
		return err
	}
	kube, err := kubernetes.NewForConfig(kcfg)
	if err != nil {
		return err
	}
	targets, err := e.startCATargets(ctx, kube)
	if err != nil {
		return e.fail(err)
	}
	for _, t := range targets {
		if t.before, err = t.settle(ctx); err != nil {
			return e.fail(err)
		}
	}
	step(fmt.Sprintf("creating %d ConfigMaps of %d KiB", *clusterCAMemory, clusterCAPayload>>10))
	start := time.Now()
	if err := createConfigMaps(ctx, kube, "bench-ca-load", *clusterCAMemory); err != nil {
		return e.fail(err)
	}
	step(fmt.Sprintf("created in %s", time.Since(start).Round(time.Second)))
	for _, t := range targets {
		if t.after, err = t.settle(ctx); err != nil {
			return e.fail(err)
		}
	}
	fmt.Println("| server | cluster CA sources | ConfigMaps of 4 KiB | RSS before (MiB) | RSS after (MiB) | growth (MiB) | target < 100 MiB |")
	fmt.Println("|---|---|---:|---:|---:|---:|---|")
	for _, t := range targets {
		grow := t.after - t.before
		fmt.Printf("| %s | %d | %.0f | %.0f | %.1f | %s |\n", t.label, *clusterCAMemory, float64(t.before)/1024,
			float64(t.after)/1024, float64(grow)/1024, verdict(grow < clusterCALimit))
	}
	return nil
}

// startCATargets starts the server under test (and the earlier build) with a shoot each.
func (e *env) startCATargets(ctx context.Context, kube kubernetes.Interface) ([]*caMemTarget, error) {
	for _, ns := range []string{"bench-ca", "bench-ca-before", "bench-ca-load"} {
		if _, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			return nil, err
		}
	}
	specs := []struct{ label, bin, name, ns string }{{"this build | configmap,secret", *serverBin, "garden-ca", "bench-ca"}}
	if *clusterCABefore != "" {
		specs = append(specs, struct{ label, bin, name, ns string }{"earlier build | ConfigMap informer, Secret, InternalSecret", *clusterCABefore, "garden-ca-before", "bench-ca-before"})
	}
	var targets []*caMemTarget
	for _, s := range specs {
		step("starting " + s.name)
		var extra []string
		if s.bin == *serverBin {
			extra = []string{"--shoot-cluster-ca-sources=configmap,secret"}
		}
		p, _, err := e.startGarden(s.bin, s.name, "/registry-"+s.name, extra...)
		if err != nil {
			return nil, err
		}
		cfg, err := restConfig(e.path(s.name + ".kubeconfig"))
		if err != nil {
			return nil, err
		}
		if s.bin != *serverBin {
			cfg.ContentType = "application/json" // an earlier build may number protobuf fields differently
		}
		c, err := versioned.NewForConfig(cfg)
		if err != nil {
			return nil, err
		}
		if err := createShoot(ctx, c, s.ns, "shoot"); err != nil {
			return nil, err
		}
		// The cluster CA the configmap source reads: the shoot's InternalSecret CA, as a ConfigMap.
		is, err := c.CoreV1beta1().InternalSecrets(s.ns).Get(ctx, "shoot.ca-cluster", metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		if _, err := kube.CoreV1().ConfigMaps(s.ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "shoot.ca-cluster"},
			Data: map[string]string{"ca.crt": string(is.Data["ca.crt"])}}, metav1.CreateOptions{}); err != nil {
			return nil, err
		}
		targets = append(targets, &caMemTarget{label: s.label, ns: s.ns, proc: p, client: c})
	}
	return targets, nil
}

// settle issues kubeconfigs, lets the garbage be collected and returns the RSS in KiB.
func (t *caMemTarget) settle(ctx context.Context) (int64, error) {
	for i := range clusterCAIssues {
		res, err := t.client.CoreV1beta1().Shoots(t.ns).CreateAdminKubeconfigRequest(ctx, "shoot", &authv1alpha1.AdminKubeconfigRequest{}, metav1.CreateOptions{})
		if err != nil {
			return 0, fmt.Errorf("%s: issuance %d: %w", t.label, i, err)
		}
		if len(res.Status.Kubeconfig) == 0 {
			return 0, fmt.Errorf("%s: empty kubeconfig", t.label)
		}
	}
	time.Sleep(10 * time.Second) // informers catch up, start-up and load garbage is collected
	return procStatusKiB(t.proc.Cmd.Process.Pid, "VmRSS:"), nil
}

// createConfigMaps creates n ConfigMaps of 4 KiB in ns with 16 clients.
func createConfigMaps(ctx context.Context, kube kubernetes.Interface, ns string, n int) error {
	payload := make([]byte, clusterCAPayload/2)
	_, _ = rand.Read(payload)
	data := map[string]string{"data": hex.EncodeToString(payload)}
	var next atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(n) || firstErr.Load() != nil {
					return
				}
				cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("load-%06d", i)}, Data: data}
				if _, err := kube.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return err
	}
	return nil
}
