/**
 * Exposes one typed object, `window.vigie`, and nothing else: no ipcRenderer,
 * no Node. Bundled into one file at build time because a sandboxed preload
 * cannot require local modules.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { ipcChannels, type ConsoleBridge } from '../common/ipc';

const api: ConsoleBridge = {
  kind: 'electron',
  getConfig: () => ipcRenderer.invoke(ipcChannels.getConfig),
  setCollector: (input) => ipcRenderer.invoke(ipcChannels.setCollector, input),
  forgetCollector: () => ipcRenderer.invoke(ipcChannels.forgetCollector),
  request: (req) => ipcRenderer.invoke(ipcChannels.request, req),
  openExternal: (url) => ipcRenderer.invoke(ipcChannels.openExternal, url),
};

contextBridge.exposeInMainWorld('vigie', api);
