package integration

import (
	"context"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/garden-apiserver/garden-apiserver/pkg/encryption"
	"github.com/garden-apiserver/garden-apiserver/pkg/etcd"
	"github.com/garden-apiserver/garden-apiserver/test/integration/framework"
	"github.com/garden-apiserver/garden-apiserver/test/procs"
)

// dialSocketEnv makes the test binary a client of the socket it names (TestHelperDialSocket).
const dialSocketEnv = "GARDEN_APISERVER_TEST_DIAL_SOCKET"

// TestEmbeddedEtcdServesOnlyTheServersUser: the embedded etcd listens on a unix socket in the
// state directory (mode 0700) and nowhere else. A process of the server's user reaches it; a
// process of another user is refused; the server keeps working.
func TestEmbeddedEtcdServesOnlyTheServersUser(t *testing.T) {
	s := framework.Start(t, "")
	ctx := context.Background()
	socket := filepath.Join(s.StateDir, etcd.SocketFile)
	st, err := os.Lstat(socket)
	require.NoError(t, err)
	assert.Equal(t, fs.ModeSocket, st.Mode().Type(), "%s is a unix socket", socket)
	dir, err := os.Stat(s.StateDir)
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o700), dir.Mode().Perm())
	_, err = s.Client.CoreV1beta1().InternalSecrets(ns).Create(ctx, newSecret("works", map[string]string{"k": "v"}), metav1.CreateOptions{})
	require.NoError(t, err)

	if os.Geteuid() != 0 {
		t.Skip("running a client as another user needs root")
	}
	bin := linkTestBinary(t)
	// At least the InternalSecret above (the server keeps its own records there too).
	assert.Regexp(t, `connected, keys under /registry-gardener/: [1-9]`, dialAs(t, bin, socket, 0), "the server's user reads etcd")
	assert.Contains(t, dialAs(t, bin, socket, 65534), "permission denied", "another user cannot connect")

	got, err := s.Client.CoreV1beta1().InternalSecrets(ns).Get(ctx, "works", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "v", string(got.Data["k"]))
}

// TestHelperDialSocket is the client process of TestEmbeddedEtcdServesOnlyTheServersUser.
func TestHelperDialSocket(t *testing.T) {
	socket := os.Getenv(dialSocketEnv)
	if socket == "" {
		t.Skip("a helper process of TestEmbeddedEtcdServesOnlyTheServersUser")
	}
	conn, err := net.Dial("unix", socket)
	if err != nil {
		fmt.Println("dial:", err)
		return
	}
	_ = conn.Close()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{etcd.Endpoint(socket)}, DialTimeout: 10 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		fmt.Println("client:", err)
		return
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := cli.Get(ctx, "/registry-gardener/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		fmt.Println("get:", err)
		return
	}
	fmt.Println("connected, keys under /registry-gardener/:", resp.Count)
}

// linkTestBinary makes this test binary executable by other users: its build directory is not.
func linkTestBinary(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	require.NoError(t, err)
	dir, err := os.MkdirTemp("", "garden-apiserver-test-bin-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	bin := filepath.Join(dir, "integration.test")
	if err := os.Link(self, bin); err != nil {
		b, err := os.ReadFile(self)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(bin, b, 0o755))
	}
	require.NoError(t, os.Chmod(bin, 0o755))
	return bin
}

// dialAs runs TestHelperDialSocket as uid (and the group of the same number) and returns its output.
func dialAs(t *testing.T, bin, socket string, uid uint32) string {
	t.Helper()
	cmd := exec.Command(bin, "-test.run=^TestHelperDialSocket$", "-test.count=1")
	cmd.Dir = "/"
	cmd.Env = []string{dialSocketEnv + "=" + socket, "PATH=/usr/bin:/bin"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	t.Logf("as uid %d: %s", uid, out)
	return string(out)
}

// earlierEncryptionConfig is the configuration earlier releases generated: identity second.
const earlierEncryptionConfig = "../../pkg/encryption/testdata/earlier-standalone-config.yaml"

// TestStateDirOfAnEarlierReleaseKeepsWorking: earlier releases ran the embedded etcd on loopback
// TCP ports, which its data records as the member's URLs, and generated an encryption
// configuration with an identity provider. Such a state directory starts on the unix socket,
// with its data and its configuration unchanged.
func TestStateDirOfAnEarlierReleaseKeepsWorking(t *testing.T) {
	ctx := context.Background()
	state := filepath.Join(t.TempDir(), "state")
	require.NoError(t, os.Mkdir(state, 0o700))
	cfg := filepath.Join(state, encryption.StandaloneConfigFile)
	earlier, err := os.ReadFile(earlierEncryptionConfig)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(cfg, earlier, 0o600))
	endpoint, stopEtcd := startEarlierEtcd(t, filepath.Join(state, "etcd"))
	s := framework.Start(t, state, "--etcd-servers="+endpoint)
	createSecrets(t, s, "old", 2, "MARKER-old")
	createShoots(t, s, "old", 1, "MARKER-old")
	s.Stop()
	stopEtcd()

	s = framework.Start(t, state)
	got, err := s.Client.CoreV1beta1().InternalSecrets(ns).Get(ctx, "old-001", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "MARKER-old", string(got.Data["marker"]))
	shoot, err := s.Client.CoreV1beta1().Shoots(ns).Get(ctx, "old-000", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "MARKER-old", shoot.Annotations["marker"])
	createSecrets(t, s, "new", 1, "MARKER-new")
	list, err := s.Client.CoreV1beta1().InternalSecrets(ns).List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	assert.Len(t, list.Items, 3)
	content, err := os.ReadFile(cfg)
	require.NoError(t, err)
	assert.Equal(t, earlier, content, "the configuration is kept")
}

// startEarlierEtcd starts etcd in dir as earlier releases did: plain HTTP on loopback TCP ports
// for clients and peers.
func startEarlierEtcd(t *testing.T, dir string) (string, func()) {
	t.Helper()
	loopback := func() url.URL {
		port, err := procs.FreePort()
		require.NoError(t, err)
		return url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
	}
	client, peer := loopback(), loopback()
	cfg := embed.NewConfig()
	cfg.Name = "garden-apiserver"
	cfg.Dir = dir
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
	cfg.InitialCluster = cfg.Name + "=" + peer.String()
	cfg.LogLevel = "error"
	cfg.ListenMetricsUrls = nil
	e, err := embed.StartEtcd(cfg)
	require.NoError(t, err)
	stop := sync.OnceFunc(e.Close)
	t.Cleanup(stop)
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(60 * time.Second):
		t.Fatal("etcd did not become ready")
	}
	return client.String(), stop
}
