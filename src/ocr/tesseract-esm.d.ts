/** tesseract.js's browser ESM build: the main entry's API as its default export. */
declare module 'tesseract.js/dist/tesseract.esm.min.js' {
  const tesseract: typeof import('tesseract.js');
  export default tesseract;
}
