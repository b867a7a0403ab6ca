package shootaccess

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// allowEverywhere allows the subresources in all namespaces to the given users only, and records
// the attributes it was asked about.
func allowEverywhere(asked *[]authorizer.Attributes, users ...string) authorizer.AuthorizerFunc {
	return func(_ context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
		*asked = append(*asked, a)
		for _, u := range users {
			if a.GetUser().GetName() == u && a.GetNamespace() == "" {
				return authorizer.DecisionAllow, "", nil
			}
		}
		return authorizer.DecisionNoOpinion, "", nil
	}
}

func TestIdentity(t *testing.T) {
	var asked []authorizer.Attributes
	p := IdentityPolicy{Authorizer: allowEverywhere(&asked, "operator")}
	for _, c := range []struct {
		kind      Kind
		user      string
		cn, group string
	}{
		{Admin, "operator", "gardener.cloud:admin:operator", SystemAdmins},
		{Admin, "member", "gardener.cloud:admin:member", ProjectAdmins},
		{Viewer, "operator", "gardener.cloud:viewer:operator", SystemViewers},
		{Viewer, "member", "gardener.cloud:viewer:member", ProjectViewers},
	} {
		asked = nil
		id, err := p.For(context.Background(), c.kind, &user.DefaultInfo{Name: c.user, Groups: []string{"system:masters"}})
		require.NoError(t, err)
		assert.Equal(t, Identity{CommonName: c.cn, Organization: c.group}, id, "%s %s", c.kind.Name, c.user)
		require.Len(t, asked, 1)
		a := asked[0]
		assert.Equal(t, []any{"create", "core.gardener.cloud", "shoots", c.kind.Subresource(), "", true},
			[]any{a.GetVerb(), a.GetAPIGroup(), a.GetResource(), a.GetSubresource(), a.GetNamespace(), a.IsResourceRequest()})
		assert.NotEqual(t, LegacyAdminGroup, id.Organization, "never system:masters")
	}
}

func TestIdentityAuthorizerError(t *testing.T) {
	p := IdentityPolicy{Authorizer: authorizer.AuthorizerFunc(func(context.Context, authorizer.Attributes) (authorizer.Decision, string, error) {
		return authorizer.DecisionNoOpinion, "", errors.New("webhook down")
	})}
	_, err := p.For(context.Background(), Admin, &user.DefaultInfo{Name: "u"})
	assert.ErrorContains(t, err, "webhook down", "a failed check is not silently a project admin")
}

func TestLegacyIdentity(t *testing.T) {
	p := IdentityPolicy{Legacy: true}
	id, err := p.For(context.Background(), Admin, &user.DefaultInfo{Name: "alice"})
	require.NoError(t, err)
	assert.Equal(t, Identity{CommonName: "alice", Organization: "system:masters"}, id)
	id, err = p.For(context.Background(), Viewer, &user.DefaultInfo{Name: "alice"})
	require.NoError(t, err)
	assert.Equal(t, Identity{CommonName: "alice", Organization: SystemViewers}, id)
}
