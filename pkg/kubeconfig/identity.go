package kubeconfig

import (
	"context"
	"fmt"

	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
)

// Kind says which subresource issues a kubeconfig.
type Kind string

const (
	Admin  Kind = "admin"
	Viewer Kind = "viewer"
)

// Subresource is the shoots subresource that issues this kind.
func (k Kind) Subresource() string { return string(k) + "kubeconfig" }

// Groups (certificate organizations) of issued certificates. The shoot binds them with its own
// RBAC (artifacts/shoot-rbac); none of them bypasses it.
const (
	SystemAdmins   = "gardener.cloud:system:admins"
	ProjectAdmins  = "gardener.cloud:project:admins"
	SystemViewers  = "gardener.cloud:system:viewers"
	ProjectViewers = "gardener.cloud:project:viewers"

	// LegacyAdminGroup is the organization of admin certificates under --shoot-kubeconfig-legacy-identity.
	LegacyAdminGroup = "system:masters"
)

// Identity is the subject of an issued client certificate.
type Identity struct {
	CommonName   string
	Organization string
}

// IdentityPolicy decides the subject of an issued certificate.
type IdentityPolicy struct {
	// Authorizer is the server's own authorizer: it says whether a user may issue for all namespaces.
	Authorizer authorizer.Authorizer
	// Legacy restores CN=<user> with system:masters (admin) or system:viewers (viewer).
	Legacy bool
}

// For returns the identity of a certificate of the given kind issued to u. The prefixed common
// name keeps the certificate from matching RoleBindings of a plain user in the shoot. A user who may
// create the subresource in all namespaces (a ClusterRoleBinding) is a system admin or viewer;
// anyone else a project one.
func (p IdentityPolicy) For(ctx context.Context, kind Kind, u user.Info) (Identity, error) {
	if p.Legacy {
		if kind == Admin {
			return Identity{CommonName: u.GetName(), Organization: LegacyAdminGroup}, nil
		}
		return Identity{CommonName: u.GetName(), Organization: SystemViewers}, nil
	}
	system, err := p.allowedEverywhere(ctx, kind, u)
	if err != nil {
		return Identity{}, err
	}
	id := Identity{CommonName: "gardener.cloud:" + string(kind) + ":" + u.GetName()}
	switch {
	case kind == Admin && system:
		id.Organization = SystemAdmins
	case kind == Admin:
		id.Organization = ProjectAdmins
	case system:
		id.Organization = SystemViewers
	default:
		id.Organization = ProjectViewers
	}
	return id, nil
}

func (p IdentityPolicy) allowedEverywhere(ctx context.Context, kind Kind, u user.Info) (bool, error) {
	if p.Authorizer == nil {
		return false, nil
	}
	decision, _, err := p.Authorizer.Authorize(ctx, authorizer.AttributesRecord{
		User:            u,
		Verb:            "create",
		APIGroup:        core.GroupName,
		APIVersion:      "v1beta1",
		Resource:        "shoots",
		Subresource:     kind.Subresource(),
		Namespace:       "", // all namespaces
		ResourceRequest: true,
	})
	if decision == authorizer.DecisionAllow {
		return true, nil
	}
	if err != nil {
		// Guessing either group would be wrong: a failed check fails the request.
		return false, fmt.Errorf("checking whether %q may create shoots/%s in all namespaces: %w", u.GetName(), kind.Subresource(), err)
	}
	return false, nil
}
