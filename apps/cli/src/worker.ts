// The worker thread of `seg segment DIR` and `seg eval`: one image a task.
import { exposeTasks } from '@seg/tensor/worker';
import { runImageJob } from './task.js';

void exposeTasks({ image: runImageJob });
