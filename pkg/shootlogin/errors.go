package shootlogin

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// explain turns a failed request into a message that says what to do, on one line.
func (g *Garden) explain(err error, namespace, shoot string) error {
	var urlErr *url.Error
	var netErr net.Error
	switch {
	case apierrors.IsNotFound(err):
		return fmt.Errorf("shoot %s/%s not found in the garden %s", namespace, shoot, g.Server)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("the garden %s refused: %w", g.Server, err)
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("the garden %s did not accept the credentials of the garden kubeconfig (401): log in to the garden again", g.Server)
	case errors.As(err, &urlErr), errors.As(err, &netErr):
		return fmt.Errorf("the garden %s is unreachable: %w", g.Server, err)
	}
	return fmt.Errorf("requesting a kubeconfig for shoot %s/%s from the garden %s: %w", namespace, shoot, g.Server, err)
}

// OneLine flattens a message for stderr: kubectl shows the plugin's stderr as it is.
func OneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
