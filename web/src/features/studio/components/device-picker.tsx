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

function label(device: MediaDeviceInfo, index: number, kind: string) {
  return device.label || `${kind} ${index + 1}`;
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
      <SelectField label="Camera" value={cameraId} disabled={disabled} onChange={(e) => onCameraChange(e.target.value)}>
            <option value="">Default camera</option>
            {cameras.map((d, i) => (
              <option key={d.deviceId} value={d.deviceId}>
                {label(d, i, 'Camera')}
              </option>
            ))}
      </SelectField>
      <SelectField label="Microphone" value={microphoneId} disabled={disabled} onChange={(e) => onMicrophoneChange(e.target.value)}>
            <option value="">Default microphone</option>
            {microphones.map((d, i) => (
              <option key={d.deviceId} value={d.deviceId}>
                {label(d, i, 'Microphone')}
              </option>
            ))}
      </SelectField>
    </div>
  );
}
