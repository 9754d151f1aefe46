// Entry point of this task: the shared handler, copied next to this file by `make package`
// (tasks/common/amlops-task.js in the source tree).
'use strict';
const fs = require('fs');
const path = require('path');
const bundled = path.join(__dirname, 'amlops-task.js');
require(fs.existsSync(bundled) ? bundled : path.join(__dirname, '..', 'common', 'amlops-task.js')).run(__dirname);
