# apps/cli/examples/readme.sh, run from the repository root by src/__tests__/readme.test.ts,
# after `npx -y pnpm@10.34.8 build` (installed, `node apps/cli/dist/seg.js` is `seg`)
node apps/cli/dist/seg.js info
node apps/cli/dist/seg.js segment samples/grabcut/images/teddy.png \
  --scribbles samples/grabcut/scribbles-1/teddy.png --mask samples/grabcut/masks/teddy.png \
  --method graphcut --out out/teddy-mask.png
