package shootlogin

import (
	"context"
	"encoding/json"
	"io"
	"time"

	clientauthv1 "k8s.io/client-go/pkg/apis/clientauthentication/v1"
)

// issueFunc asks the garden for a new credential.
type issueFunc func(ctx context.Context) (*clientauthv1.ExecCredentialStatus, error)

// Credential returns the cached credential of k while it is fresh; otherwise it issues one under
// the key's file lock, so concurrent processes (kubectl runs one per command) issue only once:
// whoever waited for the lock finds the new credential in the cache. The cache directory is
// checked before anything in it is read.
func (c Cache) Credential(ctx context.Context, k Key, now func() time.Time, renewBefore time.Duration, issue issueFunc) (*clientauthv1.ExecCredentialStatus, error) {
	if err := c.ensureDir(); err != nil {
		return nil, err
	}
	if st, err := c.Read(k); err != nil || Fresh(st, now(), renewBefore) {
		return st, err
	}
	unlock, err := c.Lock(ctx, k)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if st, err := c.Read(k); err != nil || Fresh(st, now(), renewBefore) {
		return st, err
	}
	st, err := issue(ctx)
	if err != nil {
		return nil, err
	}
	return st, c.Write(k, st)
}

// writeExecCredential prints the answer client-go expects from an exec plugin.
func writeExecCredential(w io.Writer, st *clientauthv1.ExecCredentialStatus) error {
	cred := clientauthv1.ExecCredential{Status: st}
	cred.APIVersion, cred.Kind = clientauthv1.SchemeGroupVersion.String(), "ExecCredential"
	return json.NewEncoder(w).Encode(cred)
}
