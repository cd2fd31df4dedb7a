// The container securityContext a socket-mode helper pod must carry (least privilege: nothing but
// the socket's uid and gid to choose). One definition for the controller's and the chart's tests,
// so the two cannot drift into asking for different policies.
export const socketModeSecurityContext = (runAsUser: number, runAsGroup: number) => ({
  privileged: false,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  runAsUser,
  runAsGroup,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
});
