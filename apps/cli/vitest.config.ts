import { segVitestConfig } from '@seg/vitest-config';

export default segVitestConfig();
