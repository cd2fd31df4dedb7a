// pause holds a pod sandbox's namespaces open: it sleeps until SIGINT or SIGTERM and exits 0.
// The local cluster cannot pull registry.k8s.io/pause, so it builds this one and imports it as the
// runtime's sandbox image.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	<-signals
}
