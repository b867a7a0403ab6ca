package apiserver

import (
	"net/http"

	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/user"
)

// anonymousPaths are the only paths an unauthenticated client may reach: probes.
var anonymousPaths = sets.New("/healthz", "/livez", "/readyz")

// healthOnlyAnonymous turns anonymous requests outside the health paths into 401s.
// The delegating authenticator of k8s.io/apiserver always enables anonymous access.
type healthOnlyAnonymous struct {
	delegate authenticator.Request
}

func (a healthOnlyAnonymous) AuthenticateRequest(req *http.Request) (*authenticator.Response, bool, error) {
	resp, ok, err := a.delegate.AuthenticateRequest(req)
	if ok && resp.User.GetName() == user.Anonymous && !anonymousPaths.Has(req.URL.Path) {
		return nil, false, nil
	}
	return resp, ok, err
}
