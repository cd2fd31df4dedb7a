// Every image an agent saw and did not delete gets exactly one of these reasons (DESIGN.md "The
// agent", step 3): the plan gives them, the agent's result carries them, the reports count them.

/** Why an image that was seen was not deleted. */
export type KeepReason =
  | "in-use" // a container (any state) uses it
  | "sandbox" // the runtime's configured pause image, or the image of any pod sandbox
  | "pinned" // CRI `pinned` / containerd's pinned label
  | "protected" // named by --protect / --protect-file (pods bound to the node need it)
  | "excluded" // a name matched an --exclude pattern
  | "no-match" // no name matched an --include pattern
  | "too-new" // younger than --min-age
  | "unused-for" // --unused-for: not yet seen unused that long (its clock, a label on the image)
  | "not-pullable" // --only-if-pullable: its registry would not serve it again (or did not answer)
  | "newest" // among the --keep-newest newest of its repository (by creation time)
  | "limit" // --max-images-per-node / --max-bytes-per-node reached: left for the next run
  | "not-attempted"; // the agent's --deadline came, it was stopped, or a pod arrived, before its removal batch
