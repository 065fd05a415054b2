// echarts.js -- the parts of ECharts the dashboard draws with (a bar chart
// on a canvas), so the bundle carries only those: echarts/core plus the
// chart, the components and the renderer it uses.
import { use, init } from 'echarts/core';
import { BarChart } from 'echarts/charts';
import { GridComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

use([BarChart, GridComponent, TooltipComponent, CanvasRenderer]);

export { init };
