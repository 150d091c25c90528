import { SelectField } from '@/components/ui/form';

type DevicePickerProps = {
  cameras: MediaDeviceInfo[];
  microphones: MediaDeviceInfo[];
  cameraId: string;
  microphoneId: string;
  onCameraChange: (id: string) => void;
  onMicrophoneChange: (id: string) => void;
  disabled?: boolean;
};

function DeviceSelect({
  kind,
  devices,
  value,
  onChange,
  disabled,
}: {
  kind: 'Camera' | 'Microphone';
  devices: MediaDeviceInfo[];
  value: string;
  onChange: (id: string) => void;
  disabled: boolean | undefined;
}) {
  return (
    <SelectField label={kind} value={value} disabled={disabled} onChange={(e) => onChange(e.target.value)}>
      <option value="">Default {kind.toLowerCase()}</option>
      {devices.map((d, i) => (
        <option key={d.deviceId} value={d.deviceId}>
          {d.label || `${kind} ${i + 1}`}
        </option>
      ))}
    </SelectField>
  );
}

export function DevicePicker({
  cameras,
  microphones,
  cameraId,
  microphoneId,
  onCameraChange,
  onMicrophoneChange,
  disabled,
}: DevicePickerProps) {
  return (
    <div className="grid gap-3 sm:grid-cols-2">
      <DeviceSelect kind="Camera" devices={cameras} value={cameraId} onChange={onCameraChange} disabled={disabled} />
      <DeviceSelect kind="Microphone" devices={microphones} value={microphoneId} onChange={onMicrophoneChange} disabled={disabled} />
    </div>
  );
}
