// memlab (a benchmark-only dev dependency) pulls in puppeteer; this machine
// has no network for its browser download, and nothing here needs it.
module.exports = { skipDownload: true };
