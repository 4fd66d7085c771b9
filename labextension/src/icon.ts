import { LabIcon } from '@jupyterlab/ui-components';

// A list with a progress bar: jobs that fill.
const svgstr = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <rect x="3" y="4" width="18" height="3" rx="1"/>
    <rect x="3" y="10.5" width="18" height="3" rx="1" opacity="0.35"/>
    <rect x="3" y="10.5" width="11" height="3" rx="1"/>
    <rect x="3" y="17" width="18" height="3" rx="1" opacity="0.35"/>
    <rect x="3" y="17" width="5" height="3" rx="1"/>
  </g>
</svg>`;

export const jobsIcon = new LabIcon({ name: 'nbjobs:jobs', svgstr });
