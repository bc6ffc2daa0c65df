# apps/cli/examples/readme.sh, run from the repository root by src/__tests__/readme.test.ts,
# after `npx -y pnpm@10.34.8 build` (installed, `node apps/cli/dist/seg.js` is `seg`;
# from the repository root, `npx -y pnpm@10.34.8 seg …` builds it if needed and runs it)
node apps/cli/dist/seg.js info
node apps/cli/dist/seg.js segment samples/grabcut/images/teddy.png \
  --scribbles samples/grabcut/scribbles-1/teddy.png --mask samples/grabcut/masks/teddy.png \
  --method graphcut --out out/teddy-mask.png
# every image of a GrabCut-like folder, per-image IoU and the mean; the last line is JSON
node apps/cli/dist/seg.js eval --data samples/grabcut --scribbles 1 --method graphcut --json --quiet
