package shootaccess

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/garden-apiserver/garden-apiserver/pkg/apis/core"
)

// Kind is everything that tells shoots/adminkubeconfig and shoots/viewerkubeconfig apart; the
// rest of an issuance is shared.
type Kind struct {
	// Name labels metrics and is the middle part of the certificate's common name.
	Name string
	// RequestKind is the body's kind in authentication.gardener.cloud/v1alpha1.
	RequestKind string
	// SystemGroup is the certificate's organization for users who may issue in all namespaces,
	// ProjectGroup for everyone else, LegacyGroup under --shoot-kubeconfig-legacy-identity.
	SystemGroup, ProjectGroup, LegacyGroup string
	// MaxExpiration is the longest validity granted (--shoot-<name>-kubeconfig-max-expiration).
	MaxExpiration time.Duration
}

// Admin and Viewer are the two kinds, without their longest validity (Options.Kinds sets it).
var (
	Admin = Kind{Name: "admin", RequestKind: "AdminKubeconfigRequest",
		SystemGroup: SystemAdmins, ProjectGroup: ProjectAdmins, LegacyGroup: LegacyAdminGroup}
	Viewer = Kind{Name: "viewer", RequestKind: "ViewerKubeconfigRequest",
		SystemGroup: SystemViewers, ProjectGroup: ProjectViewers, LegacyGroup: SystemViewers}
)

// Subresource is the shoots subresource that issues this kind.
func (k Kind) Subresource() string { return k.Name + "kubeconfig" }

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
		return Identity{CommonName: u.GetName(), Organization: kind.LegacyGroup}, nil
	}
	system, err := p.allowedEverywhere(ctx, kind, u)
	if err != nil {
		return Identity{}, err
	}
	id := Identity{CommonName: "gardener.cloud:" + kind.Name + ":" + u.GetName(), Organization: kind.ProjectGroup}
	if system {
		id.Organization = kind.SystemGroup
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
