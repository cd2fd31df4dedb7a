//go:build tools

// Package tools pins crictl for the image's runtime clients (see ../README.md).
package tools

import _ "sigs.k8s.io/cri-tools/cmd/crictl"
