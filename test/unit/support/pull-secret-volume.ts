// The volume a helper pod mounts a pull Secret through (clean and pull helpers alike): the i-th
// Secret named on the command line, its .dockerconfigjson only, readable by the agent's user.
export const pullSecretVolume = (i: number, secretName: string) => ({
  name: `pull-secret-${String(i)}`,
  secret: {
    secretName,
    items: [{ key: ".dockerconfigjson", path: ".dockerconfigjson" }],
    defaultMode: 0o444,
  },
});
