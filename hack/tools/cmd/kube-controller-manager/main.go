// Command kube-controller-manager is a test-only kube-controller-manager built from
// k8s.io/kubernetes (the e2e suite runs its resource quota controller).
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

func main() {
	command := app.NewControllerManagerCommand()
	code := cli.Run(command)
	os.Exit(code)
}
